"""CloudFront in front of delivery (API Gateway) and, through OAC, of originals in the bucket.

Behaviours:
- `/render/*`, `/thumbor/*` → API: cached on path + every query parameter + a normalised
  Accept (functions/normalise_query.js runs first), default TTL one day.
- `/assets/*/original`, `/renders/*` → the bucket via Origin Access Control, cached.
- everything else (`/original/{id}`, `/media/{id}/{name}`, `/v1/*`, `/healthz`) → API,
  never cached (the delivery routes 302 to presigned S3 URLs there); all viewer
  headers but Host are forwarded (x-api-key included).
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from picsha_infra.config import DeployConfig
from picsha_infra.nag import acknowledge
from picsha_infra.storage import CDN_READABLE_KEYS

NORMALISE_QUERY_JS = Path(__file__).parent / "functions" / "normalise_query.js"
RENDER_TTL = Duration.days(1)
_PRICE_CLASSES = {
    "100": cloudfront.PriceClass.PRICE_CLASS_100,
    "200": cloudfront.PriceClass.PRICE_CLASS_200,
    "all": cloudfront.PriceClass.PRICE_CLASS_ALL,
}


class Cdn(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        api_origin: cloudfront.IOrigin,
        bucket: s3.Bucket,
        log_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        normalise = cloudfront.Function(
            self,
            "NormaliseQuery",
            comment="Sort + lower-case query names, drop empty values, normalise Accept",
            code=cloudfront.FunctionCode.from_file(file_path=str(NORMALISE_QUERY_JS)),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )
        self.render_cache = cloudfront.CachePolicy(
            self,
            "RenderCache",
            comment="Picsha renders: path + all query strings + normalised Accept",
            default_ttl=RENDER_TTL,
            min_ttl=Duration.seconds(0),
            max_ttl=Duration.days(365),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.all(),
            header_behavior=cloudfront.CacheHeaderBehavior.allow_list("Accept"),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            # Images are already compressed; an Accept-Encoding key would only split the cache.
            enable_accept_encoding_gzip=False,
            enable_accept_encoding_brotli=False,
        )
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "Headers",
            comment="Picsha CORS + security headers",
            cors_behavior=cloudfront.ResponseHeadersCorsBehavior(
                access_control_allow_credentials=False,
                access_control_allow_headers=["Content-Type", "X-Api-Key", "Authorization"],
                access_control_allow_methods=["GET", "HEAD", "OPTIONS", "PUT", "POST", "DELETE"],
                access_control_allow_origins=list(config.cors_origins),
                # Picsha-Edit: which provider, model and prompt made an `edit=` render (audit)
                access_control_expose_headers=["ETag", "Location", "Picsha-Edit"],
                access_control_max_age=Duration.hours(1),
                origin_override=False,
            ),
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365),
                    include_subdomains=False,
                    override=True,
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=False,
                ),
            ),
        )
        # The viewer's address reaches delivery (the edit rate limit counts viewers, not
        # edges) without joining the cache key.
        viewer_address = cloudfront.OriginRequestPolicy(
            self,
            "RenderOrigin",
            comment="Picsha renders: forward the viewer address for the edit rate limit",
            header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list(
                "CloudFront-Viewer-Address"
            ),
            query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.all(),
            cookie_behavior=cloudfront.OriginRequestCookieBehavior.none(),
        )
        render = cloudfront.BehaviorOptions(
            origin=api_origin,
            cache_policy=self.render_cache,
            origin_request_policy=viewer_address,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
            cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
            compress=False,
            response_headers_policy=headers,
            function_associations=[
                cloudfront.FunctionAssociation(
                    function=normalise, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                )
            ],
        )
        bucket_origin = origins.S3BucketOrigin.with_origin_access_control(
            bucket, origin_access_levels=[cloudfront.AccessLevel.READ]
        )
        stored = cloudfront.BehaviorOptions(
            origin=bucket_origin,
            cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
            response_headers_policy=headers,
        )
        certificate = (
            acm.Certificate.from_certificate_arn(self, "Certificate", config.certificate_arn)
            if config.certificate_arn
            else None
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Picsha delivery",
            default_behavior=cloudfront.BehaviorOptions(
                origin=api_origin,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                response_headers_policy=headers,
            ),
            additional_behaviors={
                "/render/*": render,
                "/thumbor/*": render,
                "/assets/*/original": stored,
                "/renders/*": stored,
            },
            domain_names=[config.domain_name] if config.domain_name else None,
            certificate=certificate,
            # Only settable with a custom certificate; *.cloudfront.net is fixed by AWS.
            minimum_protocol_version=(
                cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate else None
            ),
            price_class=_PRICE_CLASSES[config.price_class],
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_logging=True,
            log_bucket=log_bucket,
            log_file_prefix="cloudfront/",
        )
        self._acknowledge_findings(has_certificate=certificate is not None)
        # OAC's grant covers the whole bucket; deny CloudFront every key but originals and
        # stored renders, so manifests (EXIF, GPS) and derivatives never leave through the CDN.
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CdnReadsOnlyOriginalsAndRenders",
                effect=iam.Effect.DENY,
                principals=[iam.ServicePrincipal("cloudfront.amazonaws.com")],
                actions=["s3:GetObject"],
                not_resources=[bucket.arn_for_objects(k) for k in CDN_READABLE_KEYS],
            )
        )

    def _acknowledge_findings(self, *, has_certificate: bool) -> None:
        dist = self.distribution
        acknowledge(
            dist,
            "CFR1",
            "Images are served worldwide; a geo restriction is a per-deployment business "
            "choice, not a security control for this service",
        )
        acknowledge(
            dist,
            "CFR2",
            "No WAF by default (cost); renders are cached, unknown parameters are rejected by "
            "the app and signed URLs stop parameter abuse; a web ACL can be attached later",
        )
        if not has_certificate:
            acknowledge(
                dist,
                "CFR4",
                "Without -c domainName/certificateArn the distribution uses *.cloudfront.net, "
                "whose TLS policy AWS fixes; with a custom certificate TLSv1.2_2021 is set",
            )

    @property
    def domain_name(self) -> str:
        return self.distribution.distribution_domain_name
