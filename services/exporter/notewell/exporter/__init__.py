"""The exporter: renders notes as PDF documents, stores them in S3 and hands out
short-lived links to them."""

# The generated notewell.exporter.v1 contracts live in another folder of this name.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)
