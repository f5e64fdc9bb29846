#!/bin/bash
# usage: run.sh LABEL JARDIR M [extra java opts]
label=$1; jar=$2; m=$3; shift 3
jdk=$(bash /work/wt/api/scripts/find-jdk.sh)
rm -rf /tmp/api-mem/out-$label
/usr/bin/time -v nice -n 5 $jdk/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED "$@" -Xlog:gc:file=/tmp/api-mem/gc-$label.log \
  -cp "$jar" gsae.cli.Main train --data /tmp/api-mem/data --latents $m --k 32 --steps 2 --batch 256 --checkpoint-every 1 --backend cpu --threads 1 --quiet --out /tmp/api-mem/out-$label > /tmp/api-mem/stdout-$label.txt 2>&1
echo "rc=$?" >> /tmp/api-mem/stdout-$label.txt
