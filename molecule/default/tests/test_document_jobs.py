"""Document jobs on the deployed app: kept on the host, only the app's user can read them, and a
finished job's result is still there after the app container is recreated."""

import json

import httpx

from conftest import healthy, run_playbook, wait_until

JOBS = "/api/documents/jobs"
HOST_DIR = "/var/lib/tradia/app/jobs"


def test_the_jobs_directory_belongs_to_the_app_alone(app_server):
    directory = app_server.file(HOST_DIR)
    assert directory.is_directory
    assert (directory.uid, directory.gid, directory.mode) == (10001, 10001, 0o700)
    mounts = json.loads(app_server.check_output("docker inspect tradia-app"))[0]["Mounts"]
    jobs = [m for m in mounts if m["Destination"] == "/var/lib/tradia/jobs"]
    assert len(jobs) == 1
    assert jobs[0]["Source"] == HOST_DIR
    assert jobs[0]["RW"] is True


def test_a_finished_job_outlives_the_app_container(app_server, client: httpx.Client):
    created = client.post(
        JOBS,
        data={"target": "en"},
        files=[("files", ("notes.txt", "Bonjour à tous.\n\nÀ demain.\n".encode(), "text/plain"))],
    )
    assert created.status_code == 202, created.text
    job_id = created.json()["id"]
    wait_until(
        lambda: client.get(f"{JOBS}/{job_id}").json()["state"] == "done", "the job done", 300
    )
    before = client.get(f"{JOBS}/{job_id}/result")
    assert before.status_code == 200
    assert app_server.file(f"{HOST_DIR}/{job_id}/result").exists
    # Recreated, not only restarted: removed, then brought back by the role.
    app_server.run_expect([0], "docker rm -f tradia-app")
    app_server.run_expect([0], "test -f %s/%s/result", HOST_DIR, job_id)
    run = run_playbook("app_server.yml")
    assert run.returncode == 0, run.stdout[-3000:]
    wait_until(lambda: healthy(app_server, "tradia-app"), "the app back and healthy")
    after = client.get(f"{JOBS}/{job_id}/result")
    assert after.status_code == 200
    assert after.content == before.content
    assert client.delete(f"{JOBS}/{job_id}").status_code == 204
    assert not app_server.file(f"{HOST_DIR}/{job_id}").exists
