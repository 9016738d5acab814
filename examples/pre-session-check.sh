#!/usr/bin/env bash
# Pre-session script for mstsc / xfreerdp wrappers: validate the credential before launching,
# branch on credgate's exit code, and show the user the cause instead of "0x904 / 0x7".
#   PW comes from wherever your launcher keeps it; it reaches credgate on stdin, never argv.
#   usage: pre-session-check.sh <host> <account> <ldap-url> <ca-file>   (password on stdin)
set -u
host=$1 account=$2 ldap=$3 ca=$4
out=$(credgate check --ldap "$ldap" --ca-file "$ca" --user "$account" --password-stdin --json)
code=$?
cause=$(printf '%s' "$out" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const j=JSON.parse(s);console.log(j.cause+" ["+j.code+"]")}catch{console.log("no verdict")}})')
case $code in
  0) echo "OK: launching RDP session to $host as $account" ;;          # here: exec mstsc /v:$host
  1) echo "STOP: the password was rejected: $cause — update it in the vault" ;;
  3) echo "STOP: the account cannot log on: $cause" ;;
  4) echo "STOP: the directory is unreachable: $cause" ;;
  *) echo "STOP: credgate exit $code: $cause" ;;
esac
exit $code
