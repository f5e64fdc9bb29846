#!/bin/bash
# run-largest.sh LABEL JARDIR M: gsae train as ./gsae runs it (its default heap, -XX:MaxRAMPercentage=75); started by when-free.sh
label=$1; jar=$2; m=$3; shift 3
jdk=/usr/lib/jvm/temurin-25-jdk-amd64
d=/tmp/big2-mem
rm -rf $d/out-$label
{ echo "### uptime before"; uptime; free -m; } > $d/$label.txt
/usr/bin/time -v nice -n 10 $jdk/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:MaxRAMPercentage=75 "$@" \
  -Xlog:gc:file=$d/gc-$label.log -cp "$jar/gsae-0.1.0.jar:$jar/lib/*" gsae.cli.Main train --data $d/data --latents $m --k 32 --steps 2 --batch 256 \
  --checkpoint-every 1 --backend cpu --threads 1 --quiet --out $d/out-$label >> $d/$label.txt 2>&1
echo "rc=$?" >> $d/$label.txt
{ echo "### uptime after"; uptime; } >> $d/$label.txt
du -sh $d/out-$label >> $d/$label.txt 2>&1

# when-free.sh (the wrapper every run went through):
# #!/bin/bash
# # waits until MemAvailable >= 20 GiB (checked every 20 s), then runs run.sh with the given arguments
# while :; do
#   avail=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
#   [ "$avail" -ge $((20 * 1024 * 1024)) ] && break
#   sleep 20
# done
# echo "started $(date -u +%T) with MemAvailable ${avail} kB" > /tmp/big2-mem/started-$1.txt
# exec /tmp/big2-mem/run.sh "$@"
