# The container's exit status must come back as the runtime's (`runc run` exits with it).
exit 7
