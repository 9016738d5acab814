#!/usr/bin/env bash
# Fleet cache purge: the collector ran on every client (credgate cache collector > collector.ps1,
# deployed by GPO/Intune) and dropped one JSON per machine on a share. This finds the cached
# TERMSRV credentials that predate the account's last password change (read from AD), shows the
# plan, and — only with --yes — writes the audit record and a PowerShell script that deletes
# exactly those entries, machine by machine.
#   usage: fleet-purge.sh <collector-dir> <account> <host> <ldap-url> <ca-file> [--yes]
#   env:   READER_USER, READER_PW (read-only AD account for pwdLastSet)
set -u
dir=$1 account=$2 host=$3 ldap=$4 ca=$5 yes=${6:-}
froms=()
for f in "$dir"/*.json; do froms+=(--from "$f"); done
common=("${froms[@]}" --account "$account" --host "$host" --ldap "$ldap" --ca-file "$ca" --service-user "$READER_USER" --service-password-env READER_PW)
credgate cache inspect "${common[@]}"
code=$?
[ $code -eq 0 ] && { echo "fleet is clean for $account on $host"; exit 0; }
[ $code -ne 6 ] && exit $code
if [ "$yes" = "--yes" ]; then
  credgate cache purge "${common[@]}" --yes --audit "$dir/purge-audit.jsonl" --script-out "$dir/purge.ps1"
  echo "deploy $dir/purge.ps1 to the fleet; audit record in $dir/purge-audit.jsonl"
else
  credgate cache purge "${common[@]}"
  echo "dry run: re-run with --yes to write the audit record and the purge script"
fi
