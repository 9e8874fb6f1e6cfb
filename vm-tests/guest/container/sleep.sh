exec sleep 300
