# What a command sees inside a sandbox, for the parity test with bubblewrap: mount points,
# their types and rw/ro, which writes succeed, and who it is.
for p in / /tmp /proc /dev /dev/pts /dev/shm /usr /sys /etc; do
  line=$(awk -v p="$p" '$5==p {print}' /proc/self/mountinfo | tail -1)
  if [ -z "$line" ]; then echo "$p: -"; continue; fi
  opts=$(echo "$line" | awk '{print $6}' | tr , '\n' | grep -E '^(ro|rw)$')
  type=$(echo "$line" | sed 's/.* - //' | awk '{print $1}')
  echo "$p: $type $opts"
done
for f in /tmp/x /etc/x /dev/shm/x /usr/x; do touch $f 2>/dev/null && echo "write $f ok" || echo "write $f refused"; done
echo "uid $(id -u)"
