import json

from tradia.api.events import DoneEvent, ErrorEvent, Event, QueuedEvent, StartedEvent, TokenEvent
from tradia.upstream.errors import ErrorKind

from bench.measure import Sample
from bench.stream_cut import End, Tally, ollama_end, sample_end, tradia_end


def _line(**chunk: object) -> str:
    return json.dumps(chunk)


def test_a_stream_ending_with_its_done_chunk_is_done():
    lines = [_line(message={"content": "Bon"}, done=False), "", _line(done=True, eval_count=1)]
    assert ollama_end(lines) is End.DONE


def test_an_error_line_is_an_error_not_a_cut():
    lines = [_line(message={"content": "Bon"}, done=False), _line(error="model crashed")]
    assert ollama_end(lines) is End.ERROR


def test_a_stream_without_done_or_error_is_cut():
    assert ollama_end([_line(message={"content": "Bon"}, done=False)]) is End.CUT
    assert ollama_end([]) is End.CUT
    # A torn last line (the connection closed mid-chunk) is no ending either.
    assert ollama_end([_line(message={"content": "x"}, done=False), '{"done": tr']) is End.CUT


def test_tally_counts_cuts_apart_from_errors():
    tally = Tally()
    for end in (End.DONE, End.CUT, End.ERROR, End.DONE, End.CUT):
        tally.add(end)
    assert (tally.total, tally.cut, tally.errors) == (5, 2, 1)
    assert str(tally) == "2 of 5 streams cut (1 ended with an error event)"


def _event(event: Event) -> str:
    return event.model_dump_json()


def test_tradia_streams_end_with_their_done_or_error_event():
    queued, started = _event(QueuedEvent(position=1)), _event(StartedEvent(model="m"))
    done = _event(DoneEvent(done_reason="stop", truncated=False))
    error = _event(ErrorEvent(error=ErrorKind.GENERATION_FAILED, message="failed"))
    assert tradia_end([queued, started, _event(TokenEvent(text="Bon")), done]) is End.DONE
    assert tradia_end([queued, started, error]) is End.ERROR
    # What a cut stream looks like: the first event (34-44 bytes), then nothing.
    assert tradia_end([queued]) is End.CUT
    assert tradia_end([queued, '{"type":"do']) is End.CUT
    assert tradia_end([]) is End.CUT


def _sample(ok: bool, error: str = "") -> Sample:
    return Sample("translate", 0.0, 0.1, ok=ok, error=error)


def test_a_measured_task_is_cut_only_without_done_or_error_event():
    assert sample_end(_sample(True)) is End.DONE
    # tradia_task records an error event's kind, or a refusal's status, as the error.
    assert sample_end(_sample(False, ErrorKind.GENERATION_FAILED.value)) is End.ERROR
    assert sample_end(_sample(False, "http_429")) is End.ERROR
    # ... and a transport failure's class name, or no_done_event when the stream just ended.
    assert sample_end(_sample(False, "RemoteProtocolError")) is End.CUT
    assert sample_end(_sample(False, "no_done_event")) is End.CUT
