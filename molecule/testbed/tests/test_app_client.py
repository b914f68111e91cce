"""app-client reaches the simulator by host name, the way the app server reaches an AI server."""

import json

from conftest import group

testinfra_hosts = group("app_clients")


def test_api_version_answers_from_app_client(host):
    result = host.run("curl -fsS --max-time 10 http://ai-server:11434/api/version")
    assert result.rc == 0, result.stderr
    assert json.loads(result.stdout)["version"]


def test_api_tags_lists_models_from_app_client(host):
    result = host.run("curl -fsS --max-time 10 http://ai-server:11434/api/tags")
    assert result.rc == 0, result.stderr
    assert isinstance(json.loads(result.stdout)["models"], list)
