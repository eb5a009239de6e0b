# Long reliability runs (make stress): see tests/stress/README.
# Knobs: STRESS_ONLY="fio powercut", STRESS_LEVEL=quick|full, STRESS_CUTS=N ...
# STRESS_TARGETS=kernel runs them against the kernel's dm-thin.
.PHONY: stress
stress: deps
	$(MAKE) all
	$(MAKE) deb
	bash tests/stress/run-stress.sh
