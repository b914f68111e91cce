"""Document jobs that outlive the browser: stored on disk, run in the background, resumed after
a restart, deleted once their retention has passed."""
