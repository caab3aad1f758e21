"""Real processes for containers whose program this machine has (python, busybox/alpine shells, debian).

`images` decides which containers run for real (a table); `runtime` runs them (`Jail` → `PodJail` →
`RealRun`) through `launcher` (namespaces, chroot view, cgroups, non-root uid, rlimits); `rootfs` and `volumes`
build each container's view and its pod's volumes; `netns` reaches a pod's ports from the sandbox. Everything
else keeps the behaviour model (`sandbox/behaviour/`).
"""
