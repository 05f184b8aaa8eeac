#!/usr/bin/env bash
# Install what siplb needs to build, test and demo (Debian 12, as root).
# Idempotent and silent when everything is present.
set -euo pipefail

pkgs=(
	# build: BPF objects (clang/llvm), skeletons (bpftool), libbpf + its libelf/zlib
	clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev make gcc pkg-config
	# userspace: netlink, TLS, config, JSON, metrics HTTP, pcap input, sd_notify
	libmnl-dev libssl-dev libyaml-dev libjson-c-dev libmicrohttpd-dev libpcap-dev libsystemd-dev
	# tests: unit framework, sanitizer and fuzzer runtime, namespaces and links
	libcriterion-dev libclang-rt-14-dev iproute2 xdp-tools
	# integration tests: JSON answers of siplbctl, metrics over HTTP
	jq curl
	# demo, end-to-end tests and benchmark: real SIP backends and load, the plot
	kamailio sip-tester gnuplot-nox
	# scale-out tests: BGP to the ECMP router (BIRD 2)
	bird2
	# end-to-end TLS tests: the test CA and certificates
	openssl
)

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run as root (apt-get install)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
