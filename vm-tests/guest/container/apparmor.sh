# What AppArmor label the process runs under and whether the profile's deny rule bites.
read -r label </proc/self/attr/current
echo "label=$label"
if cat /etc/vmt-secret >/dev/null 2>&1; then echo secret=readable; else echo secret=denied; fi
read -r pub </etc/vmt-public
echo "public=$pub"
