from bench.lab import ai_hosts, parse_demo_output

# ruff: noqa: E501

# The recap lines as ansible prints them (wider than our line length).
OUTPUT = """\
TASK [app_server : Verify] ****
ok: [tradia-lab-app]

PLAY RECAP *********************************************************************
tradia-lab-ai              : ok=61   changed=0    unreachable=0    failed=0    skipped=20   rescued=0    ignored=0
tradia-lab-ai-2            : ok=75   changed=31   unreachable=0    failed=0    skipped=6    rescued=0    ignored=0
tradia-lab-app             : ok=58   changed=2    unreachable=0    failed=0    skipped=9    rescued=0    ignored=0

demo: site.yml took 212 s
"""


def test_parse_demo_output_reads_the_recap_and_the_timing():
    seconds, changed, failed = parse_demo_output(OUTPUT)
    assert seconds == 212
    assert changed == {"tradia-lab-ai": 0, "tradia-lab-ai-2": 31, "tradia-lab-app": 2}
    assert failed == 0


def test_parse_demo_output_without_timing():
    assert parse_demo_output("nothing") == (-1, {}, 0)


def test_ai_hosts_names():
    assert ai_hosts(1) == ["tradia-lab-ai"]
    assert ai_hosts(3) == ["tradia-lab-ai", "tradia-lab-ai-2", "tradia-lab-ai-3"]
