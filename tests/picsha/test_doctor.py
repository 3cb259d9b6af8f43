"""`picsha doctor`'s checks on this machine and on broken configurations."""

from picsha import doctor
from shared.settings import Settings
from tests.helpers import free_port


def test_policy_parsing_ignores_comments_and_reads_patterns():
    policy = """
    <!-- <policy domain="coder" rights="none" pattern="PSD" /> -->
    <policy domain="coder" rights="none" pattern="{PS,EPS,PDF}" />
    <policy domain="coder" rights="read|write" pattern="PNG" />
    <policy domain="resource" name="memory" value="256MiB"/>
    """
    assert doctor._blocked_coders(policy) == ["EPS", "PDF", "PS"]


def test_unreachable_redis_broker_fails_with_a_fix(tmp_path):
    url = f"redis://127.0.0.1:{free_port()}/0"
    check = doctor.check_broker(Settings(data_dir=tmp_path, broker_url=url))
    assert check.status == doctor.FAIL and check.fix


def test_password_in_a_url_is_never_printed(tmp_path):
    url = f"redis://user:hunter2@127.0.0.1:{free_port()}/0"
    check = doctor.check_broker(Settings(data_dir=tmp_path, broker_url=url))
    assert "hunter2" not in check.detail


def test_a_crashing_check_is_reported_not_raised(tmp_path, monkeypatch):
    def broken(_: Settings) -> doctor.Check:
        raise RuntimeError("probe exploded")

    monkeypatch.setattr(doctor, "CHECKS", [broken, doctor.check_storage])
    results = doctor.run_checks(Settings(data_dir=tmp_path))
    assert results[0].status == doctor.FAIL and "probe exploded" in results[0].detail
    assert results[1].status == doctor.OK


def test_ffmpeg_check_names_its_version_or_the_package(tmp_path, monkeypatch):
    check = doctor.check_ffmpeg(Settings(data_dir=tmp_path))
    assert check.status == doctor.OK and check.detail.startswith("ffmpeg version")
    monkeypatch.setenv("PATH", str(tmp_path))  # neither program on the PATH
    check = doctor.check_ffmpeg(Settings(data_dir=tmp_path))
    assert check.status == doctor.FAIL and "ffmpeg and ffprobe" in check.detail
    assert check.fix == "apt-get install ffmpeg"
