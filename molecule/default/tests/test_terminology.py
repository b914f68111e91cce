"""The organisation's terminology on the deployed app: the inventory's glossary reaches a
translation end to end, the file is read-only for the app, and a replaced file is read without
restarting the container."""

import json

import httpx
from tradia.api.events import TranslationResult
from tradia.stream_client import iter_events

from conftest import inventory_vars, wait_until

APP_SERVERS = inventory_vars("app_servers")
GLOSSARY = APP_SERVERS["app_server_glossary"]
KEEP = APP_SERVERS["app_server_do_not_translate"]
HOST_FILE = "/etc/tradia/app/terminology/terminology.json"
APP_FILE = "/etc/tradia/terminology/terminology.json"


def _pairs(client: httpx.Client) -> list[dict]:
    response = client.get("/api/settings")
    assert response.status_code == 200
    return response.json()["features"]["glossary"]


def _container(app_server) -> dict:
    return json.loads(app_server.check_output("docker inspect tradia-app"))[0]


def _replace(app_server, content: str) -> None:
    """As the role's copy does it: a new file renamed over the old one (a new inode)."""
    app_server.run_expect(
        [0],
        "printf '%%s' %s > %s.new && chmod 0444 %s.new && mv %s.new %s",
        content,
        HOST_FILE,
        HOST_FILE,
        HOST_FILE,
        HOST_FILE,
    )


def test_the_file_is_root_s_read_only_and_its_directory_is_mounted(app_server):
    file = app_server.file(HOST_FILE)
    assert (file.user, file.group, file.mode) == ("root", "root", 0o444)
    assert json.loads(file.content_string) == {"glossary": GLOSSARY, "do_not_translate": KEEP}
    container = _container(app_server)
    assert f"TRADIA_GLOSSARY_FILE={APP_FILE}" in container["Config"]["Env"]
    mounts = [m for m in container["Mounts"] if m["Destination"] == "/etc/tradia/terminology"]
    assert len(mounts) == 1
    assert mounts[0]["Source"] == "/etc/tradia/app/terminology"
    assert mounts[0]["RW"] is False


def test_the_inventory_glossary_reaches_a_translation(client: httpx.Client):
    entry = GLOSSARY[0]
    pair = {"source": entry["source"], "target": entry["target"], "terms": 1}
    assert pair in _pairs(client)
    text = f"Le {entry['term']} de la réunion de {KEEP[0]} est prêt."
    body = {"text": text, "source": entry["source"], "target": entry["target"]}
    with client.stream("POST", "/api/translate", json=body) as response:
        assert response.status_code == 200
        events = list(iter_events(response))
    assert events[-1].type == "done", events[-1]
    result = next(e for e in events if isinstance(e, TranslationResult))
    # The tiny model may or may not use the term: the report says which, for each term.
    report = {(u.term, u.translation, u.kind) for u in result.glossary}
    assert report == {
        (entry["term"], entry["translation"], "glossary"),
        (KEEP[0], KEEP[0], "do_not_translate"),
    }


def test_a_replaced_file_is_read_without_a_restart(app_server, client: httpx.Client):
    started = _container(app_server)["State"]["StartedAt"]
    original = app_server.file(HOST_FILE).content_string
    extra = {"source": "fr", "target": "de", "term": "compte rendu", "translation": "Protokoll"}
    changed = json.dumps({"glossary": [*GLOSSARY, extra], "do_not_translate": KEEP})
    new_pair = {"source": "fr", "target": "de", "terms": 1}
    try:
        _replace(app_server, changed)
        wait_until(lambda: new_pair in _pairs(client), "the new glossary entry served", 30)
    finally:
        # As the role wrote it: the next run of the role changes nothing.
        _replace(app_server, original)
    wait_until(lambda: new_pair not in _pairs(client), "the original glossary back", 30)
    assert _container(app_server)["State"]["StartedAt"] == started
