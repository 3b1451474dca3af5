"""Settings every service reads from its environment, as it will on Kubernetes."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    """Connection settings shared by all services.

    Pointing these variables at real Kafka, MongoDB, S3, KMS and an OpenAI-compatible
    endpoint is all it takes to leave the one-machine default.
    """

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: str = Field("notewell", alias="SERVICE_NAME")
    log_level: str = Field("INFO", alias="LOG_LEVEL")

    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", alias="KAFKA_BOOTSTRAP_SERVERS"
    )
    # Tansu (the local broker) rejects idempotent producers; real Kafka should enable it.
    kafka_enable_idempotence: bool = Field(False, alias="KAFKA_ENABLE_IDEMPOTENCE")
    # Prepended to every topic name, e.g. "staging." (tests use one per test).
    kafka_topic_prefix: str = Field("", alias="KAFKA_TOPIC_PREFIX")
    # Create missing topics at start-up (the one-machine default); off where the
    # platform declares topics itself.
    kafka_create_topics: bool = Field(True, alias="KAFKA_CREATE_TOPICS")

    mongodb_uri: str = Field("mongodb://127.0.0.1:27017", alias="MONGODB_URI")
    mongodb_database: str = Field("notewell", alias="MONGODB_DATABASE")

    s3_endpoint_url: str | None = Field(None, alias="S3_ENDPOINT_URL")
    aws_region: str = Field("us-east-1", alias="AWS_REGION")
    # Unset means boto3's default credential chain (environment, IRSA, instance role);
    # set, they are passed to the clients explicitly, as tests do.
    aws_access_key_id: str | None = Field(None, alias="AWS_ACCESS_KEY_ID")
    aws_secret_access_key: SecretStr | None = Field(None, alias="AWS_SECRET_ACCESS_KEY")

    # Envelope encryption: AWS KMS when KMS_KEY_ID is set, else a local master key file.
    kms_key_id: str | None = Field(None, alias="KMS_KEY_ID")
    kms_endpoint_url: str | None = Field(None, alias="KMS_ENDPOINT_URL")
    local_master_key_file: str = Field(".data/master.key", alias="LOCAL_MASTER_KEY_FILE")

    # Clinician identity: bearer tokens signed by the API gateway.
    auth_issuer: str = Field("notewell-gateway", alias="AUTH_ISSUER")
    auth_audience: str = Field("notewell", alias="AUTH_AUDIENCE")
    # HS256 shared secret (one-machine default) or a PEM public key for RS256/ES256.
    auth_hs256_secret: str | None = Field(None, alias="AUTH_HS256_SECRET")
    auth_public_key_file: str | None = Field(None, alias="AUTH_PUBLIC_KEY_FILE")

    # Service identity: HS256 tokens one notewell service mints to call another's
    # internal API. A separate secret and audience from the gateway's, so neither kind
    # of token is ever accepted in place of the other.
    service_auth_secret: SecretStr | None = Field(None, alias="SERVICE_AUTH_SECRET")
    auth_service_audience: str = Field("notewell-internal", alias="AUTH_SERVICE_AUDIENCE")

    # Where the notes store serves NotesContext (host:port).
    notes_store_address: str = Field("127.0.0.1:50051", alias="NOTES_STORE_ADDRESS")

    grpc_port: int = Field(50051, alias="GRPC_PORT")

    def topic(self, name: str) -> str:
        """The full name of a pipeline topic, e.g. ``topic(SESSION_ENDED)``."""
        return self.kafka_topic_prefix + name
