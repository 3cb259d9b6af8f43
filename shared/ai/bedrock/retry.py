"""AWS calls with backoff on throttling and transient faults; everything else is final.

Botocore's own retries are off for these clients (max_attempts=1) so there is one retry
policy, this one, and it is what the Stubber tests exercise.
"""

import logging
import random
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, ReadTimeoutError

from shared.ai.types import ProviderError, TransientProviderError

log = logging.getLogger(__name__)

TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "TooManyRequestsException",
        "ServiceUnavailableException",
        "InternalServerException",
        "InternalServerError",
        "ModelNotReadyException",
        "ModelTimeoutException",
        "LimitExceededException",
        "RequestTimeout",
    }
)


class Retrier:
    def __init__(
        self,
        attempts: int = 5,
        base_delay: float = 0.5,
        max_delay: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep

    def call(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        last: Exception | None = None
        for attempt in range(self.attempts):
            try:
                return fn(**kwargs)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code not in TRANSIENT_CODES:
                    raise ProviderError(f"{code}: {_message(exc)}") from exc
                last = exc
            except (ConnectionError, ReadTimeoutError) as exc:
                last = exc
            except BotoCoreError as exc:
                raise ProviderError(str(exc)) from exc
            if attempt + 1 < self.attempts:
                # Full jitter (AWS Architecture Blog): spreads retries from many workers.
                delay = min(self.max_delay, self.base_delay * 2**attempt)
                log.info("AWS call throttled or failed (%s); retry in <= %.1fs", last, delay)
                self.sleep(random.uniform(0, delay))
        raise TransientProviderError(f"gave up after {self.attempts} attempts: {last}")


def _message(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Message", "") or str(exc)
