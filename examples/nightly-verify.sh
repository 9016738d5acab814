#!/usr/bin/env bash
# Nightly bulk verification: every account the PAM product manages, against the directory, over a
# few persistent LDAPS connections. Resumable (re-run after a crash continues where it stopped),
# lockout-safe with a read-only service account, and a summary by finding code for the morning.
#   usage: nightly-verify.sh <accounts.csv> <results.jsonl> <ldap-urls> <ca-file>
#   env:   READER_USER, READER_PW (the service account; the password stays in the environment)
#   The CSV names each account's password in a password_env column (an env var name), never the value.
set -u
in=$1 out=$2 ldap=$3 ca=$4
credgate verify --input "$in" --output "$out" --ldap "$ldap" --ca-file "$ca" \
  --service-user "$READER_USER" --service-password-env READER_PW --concurrency 8 --json > "$out.summary.json"
code=$?
node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`nightly verify: ${s.total} accounts, ${s.valid} valid, ${s.failed} failed, ${s.badLines} bad input lines`);
  for (const [c, n] of Object.entries(s.byCode)) console.log(`  ${c}: ${n}`);
' "$out.summary.json"
case $code in
  0) echo "all credentials valid" ;;
  1) echo "some vault passwords are wrong: reconcile them (see $out)" ;;
  3) echo "some accounts are unusable (locked, disabled, expired): see $out" ;;
  4) echo "the directory was unreachable for some accounts: re-run to retry them" ;;
  *) echo "credgate verify exited $code" ;;
esac
exit $code
