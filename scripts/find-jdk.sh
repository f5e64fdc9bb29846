#!/usr/bin/env bash
# Prints the home of a JDK 25 or newer: JAVA_HOME when it qualifies, else the newest under /usr/lib/jvm.
# Prints nothing when there is none (callers say so in one line).
major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] && [ "$(major "$JAVA_HOME")" -ge 25 ] 2>/dev/null; then
  echo "$JAVA_HOME"; exit 0
fi
best=""; best_v=0
for home in /usr/lib/jvm/*/; do
  home=${home%/}
  [ -x "$home/bin/javac" ] || continue
  v=$(major "$home")
  if [ "${v:-0}" -ge 25 ] 2>/dev/null && [ "$v" -gt "$best_v" ]; then best=$home; best_v=$v; fi
done
echo "$best"
