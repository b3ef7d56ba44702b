#!/usr/bin/env bash
# Debian packages ChainLens needs on the machine: Java 17 and Maven (the managed Neo4j),
# Mosquitto (MQTT telemetry), wrk (the API benchmark), Chromium (the explorer's browser
# tests). Installs only what is missing, so a second run is instant.
set -euo pipefail

need=()
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
# mosquitto_sub: bench/telemetry.py's C-client baseline (the stricter one).
command -v mosquitto_sub >/dev/null 2>&1 || need+=(mosquitto-clients)
# wrk: bench/api.py's load generator (C, one thread: it leaves the cores to the API).
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v node >/dev/null 2>&1 || need+=(nodejs npm)
# CJK glyphs, so that Chinese names render in the explorer's browser tests and screenshots.
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
# Pango (and with it HarfBuzz and fontconfig): WeasyPrint lays out the contract PDFs.
dpkg -s libpango-1.0-0 >/dev/null 2>&1 || need+=(libpango-1.0-0)
dpkg -s libpangoft2-1.0-0 >/dev/null 2>&1 || need+=(libpangoft2-1.0-0)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "installing Debian packages: ${need[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root (or sudo) to install: ${need[*]}" >&2; exit 1; }
  sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
