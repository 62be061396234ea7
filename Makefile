.PHONY: setup test lint benchmark
setup:
	bash tools/setup.sh
test:
	python3 -m pytest -n 2 --dist loadfile
lint:
	ruff check mmresize tools tests
benchmark:
	python3 tools/benchmark_resizers.py
