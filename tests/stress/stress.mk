# Long reliability runs (make stress): see tests/stress/README.
# STRESS_TARGETS=kernel runs them against the kernel's dm-thin.
.PHONY: stress
stress: deps
	$(MAKE) all
	sh tests/stress/run-stress.sh
