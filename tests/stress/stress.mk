# Long reliability runs (make stress): see tests/stress/README.
.PHONY: stress
stress: deps
	$(MAKE) all
	sh tests/stress/run-stress.sh
