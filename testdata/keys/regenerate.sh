#!/usr/bin/env bash
# Regenerates the SSH public key fixtures in this directory with ssh-keygen.
#
#   <name>.pub      public key, comment "fixture-<name>"
#   <name>.md5      exactly what `ssh-keygen -l -E md5 -f <name>.pub` prints
#   rsa2048.cert    an OpenSSH user certificate for rsa2048.pub (signed by a
#                   throwaway CA), which ImportKeyPair must refuse
#   rsa2048.rfc4716 rsa2048.pub in RFC 4716 format (`ssh-keygen -e`), refused too
#
# Only public halves are kept: the private keys and the CA are deleted.
# ssh-dss needs an ssh-keygen that can still make DSA keys (OpenSSH < 9.8 or one
# built with DSA enabled); the fixtures were made with OpenSSH_9.2p1.
set -euo pipefail
cd "$(dirname "$0")"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

gen() { # name type bits
	local name=$1 type=$2 bits=$3
	rm -f "$name.pub" "$name.md5"
	if [[ -n $bits ]]; then
		ssh-keygen -q -t "$type" -b "$bits" -N '' -C "fixture-$name" -f "$tmp/$name"
	else
		ssh-keygen -q -t "$type" -N '' -C "fixture-$name" -f "$tmp/$name"
	fi
	cp "$tmp/$name.pub" "$name.pub"
	ssh-keygen -l -E md5 -f "$name.pub" >"$name.md5"
}

gen rsa2048 rsa 2048
gen rsa4096 rsa 4096
gen dsa1024 dsa 1024
gen ecdsa256 ecdsa 256
gen ecdsa384 ecdsa 384
gen ecdsa521 ecdsa 521
gen ed25519 ed25519 ''

# A certificate for rsa2048, signed by a CA that exists only in $tmp.
ssh-keygen -q -t ed25519 -N '' -C fixture-ca -f "$tmp/ca"
cp rsa2048.pub "$tmp/user.pub"
ssh-keygen -q -s "$tmp/ca" -I fixture-cert -n fixture "$tmp/user.pub"
cp "$tmp/user-cert.pub" rsa2048.cert

# The same public key in RFC 4716 ("---- BEGIN SSH2 PUBLIC KEY ----") format.
# ssh-keygen writes a "converted by user@host" comment; pin it.
ssh-keygen -e -f rsa2048.pub | sed 's/^Comment: .*/Comment: "fixture-rsa2048"/' >rsa2048.rfc4716

# $tmp (with every private key) is removed by the trap.
ls -l
