"""Settings every service reads from its environment, as it will on Kubernetes."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

KafkaSecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
KafkaSaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]

DEFAULT_KAFKA_MAX_MESSAGE_BYTES = 8 * 1024 * 1024


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
    # The largest record the services produce, and the max.message.bytes of the topics
    # ensure_topics creates. A sealed transcript of a 3-hour session is about 0.3 MiB.
    kafka_max_message_bytes: int = Field(
        DEFAULT_KAFKA_MAX_MESSAGE_BYTES, alias="KAFKA_MAX_MESSAGE_BYTES", ge=1024 * 1024
    )

    # How every Kafka client (producer, consumers, admin) connects; see
    # notewell.platform.kafka.connection_options. SASL mechanisms need a username
    # and password; the *_SSL protocols verify the brokers against KAFKA_SSL_CA_FILE
    # (else the system's CAs) and present KAFKA_SSL_CERT_FILE/KEY_FILE when set (mTLS).
    kafka_security_protocol: KafkaSecurityProtocol = Field(
        "PLAINTEXT", alias="KAFKA_SECURITY_PROTOCOL"
    )
    kafka_sasl_mechanism: KafkaSaslMechanism | None = Field(
        None, alias="KAFKA_SASL_MECHANISM"
    )
    kafka_sasl_username: str | None = Field(None, alias="KAFKA_SASL_USERNAME")
    kafka_sasl_password: SecretStr | None = Field(None, alias="KAFKA_SASL_PASSWORD")
    kafka_ssl_ca_file: str | None = Field(None, alias="KAFKA_SSL_CA_FILE")
    kafka_ssl_cert_file: str | None = Field(None, alias="KAFKA_SSL_CERT_FILE")
    kafka_ssl_key_file: str | None = Field(None, alias="KAFKA_SSL_KEY_FILE")

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

    @model_validator(mode="after")
    def _kafka_security_is_complete(self) -> Self:
        protocol = self.kafka_security_protocol
        sasl = protocol.startswith("SASL_")
        if sasl and self.kafka_sasl_mechanism is None:
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL {protocol} needs KAFKA_SASL_MECHANISM"
            )
        if sasl and not (self.kafka_sasl_username and self.kafka_sasl_password):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL {protocol} needs KAFKA_SASL_USERNAME and "
                "KAFKA_SASL_PASSWORD"
            )
        if not sasl and self.kafka_sasl_mechanism is not None:
            raise ValueError(
                "KAFKA_SASL_MECHANISM is set but KAFKA_SECURITY_PROTOCOL "
                f"{protocol} does not use SASL"
            )
        tls_files = (self.kafka_ssl_ca_file, self.kafka_ssl_cert_file)
        if not protocol.endswith("SSL") and any(tls_files):
            raise ValueError(
                "KAFKA_SSL_* files are set but KAFKA_SECURITY_PROTOCOL "
                f"{protocol} does not use TLS"
            )
        if bool(self.kafka_ssl_cert_file) != bool(self.kafka_ssl_key_file):
            raise ValueError("KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together")
        return self

    def topic(self, name: str) -> str:
        """The full name of a pipeline topic, e.g. ``topic(SESSION_ENDED)``."""
        return self.kafka_topic_prefix + name


class LLMSettings(BaseSettings):
    """The OpenAI-compatible language model a service asks (notewell.platform.llm).

    Mixed into the settings of the services that use one; each may give the two time
    limits defaults of its own.
    """

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    openai_base_url: str = Field("http://127.0.0.1:8080/v1", alias="OPENAI_BASE_URL")
    openai_api_key: str = Field("local", alias="OPENAI_API_KEY")
    llm_model: str = Field("qwen2.5-coder-1.5b-instruct", alias="LLM_MODEL")
    # Wait for the first piece of an answer (the prompt is read in that time), then the
    # longest pause allowed between pieces.
    llm_timeout_seconds: float = Field(60.0, gt=0, alias="LLM_TIMEOUT_SECONDS")
    llm_stall_seconds: float = Field(20.0, gt=0, alias="LLM_STALL_SECONDS")
    llm_temperature: float = Field(0.2, ge=0, alias="LLM_TEMPERATURE")
    # Sent as an extra body field (llama.cpp's sampler, which is very slow under a JSON
    # grammar without it). 0 leaves it out, for endpoints that reject unknown fields.
    llm_top_k: int = Field(40, ge=0, alias="LLM_TOP_K")
