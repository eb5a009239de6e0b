#!/bin/bash
# dm-ctpool.ko registers its targets, unloads cleanly, and with compat_names=1
# takes the kernel dm-thin names — refusing, with a reason, while dm-thin is loaded.
. "$(dirname "$0")/lib.bash"

must load_ctpool
check "module is loaded" module_loaded dm_ctpool
assert_eq "ctpool target version" v1.22.0 "$(target_version ctpool)"
assert_eq "ctthin target version" v1.22.0 "$(target_version ctthin)"
check "rmmod" unload_ctpool
check "module gone from /proc/modules" test -z "$(grep '^dm_ctpool ' /proc/modules)"
assert_eq "ctpool target gone" "" "$(target_version ctpool)"
assert_eq "ctthin target gone" "" "$(target_version ctthin)"

must load_ctpool compat_names=1
assert_eq "compat: thin-pool version" v1.22.0 "$(target_version thin-pool)"
assert_eq "compat: thin version" v1.22.0 "$(target_version thin)"
assert_eq "compat: no ctpool target" "" "$(target_version ctpool)"
check "compat: dm_thin_pool not loaded" test -z "$(grep '^dm_thin_pool ' /proc/modules)"
check "compat: rmmod" unload_ctpool
assert_eq "compat: thin-pool gone" "" "$(target_version thin-pool)"

# Both cannot own the same names: the second insmod must fail, saying why.
must load_dm_thin
dmesg -C
check_fails "compat insmod refused while dm-thin-pool is loaded" load_ctpool compat_names=1
check "refused module not left loaded" test -z "$(grep '^dm_ctpool ' /proc/modules)"
assert_match "dmesg explains the refusal" 'already registered.*dm-thin-pool' "$(dmesg)"

# Under its own names it lives beside dm-thin.
must load_ctpool
assert_eq "beside dm-thin: ctpool registered" v1.22.0 "$(target_version ctpool)"
assert_eq "beside dm-thin: thin-pool still registered" v1.22.0 "$(target_version thin-pool)"
check "rmmod beside dm-thin" unload_ctpool
check "unload dm-thin" unload_dm_thin
