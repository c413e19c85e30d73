#!/usr/bin/env bash
# The i3lic demo: issue a real activation file for this machine with the example keys, and
# verify it as this machine, telling each step as the vendor's staff would.
#
#   ./demo.sh [FOLDER]            run the whole story once, then stop
#   ./demo.sh --portal [FOLDER]   the same, then keep the portal running on the demo ledger
#                                 (port 8080, or I3LIC_DEMO_PORT) until Ctrl-C
#
# Everything the demo makes (ledger, key copy, activation files) goes into FOLDER (default:
# a new temporary folder); nothing else is touched apart from the build in ./target.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/toolchain.sh

# Bold headings only on a terminal, and never when NO_COLOR is set (https://no-color.org).
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
    say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
    say() { printf '\n== %s\n' "$*"; }
fi
# Show a command as typed (binary names without their folder, the demo folder as $DEMO), then run it.
run() {
    local shown
    shown="$(printf '%q ' "$@")"
    shown="${shown//"$BIN/"/}"
    printf '$ %s\n' "${shown//"$DEMO"/\$DEMO}"
    "$@"
}

KEEP_PORTAL=
if [ "${1:-}" = "--portal" ]; then
    KEEP_PORTAL=1
    shift
fi

say "Building gethostid, issuer, licverify, licadmin and portal (release)"
cargo build --release --locked --quiet --bins -p i3lic-hostid -p i3lic-issuer -p i3lic-verify \
    -p i3lic-allocation -p i3lic-portal
# Wherever cargo puts the build (CARGO_TARGET_DIR, a config file, or ./target).
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps --locked |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
BIN="${TARGET_DIR:-$(pwd)/target}/release"
for b in gethostid issuer licverify licadmin portal; do
    [ -x "$BIN/$b" ] || { echo "demo: $BIN/$b was not built" >&2; exit 1; }
done

DEMO="${1:-$(mktemp -d "${TMPDIR:-/tmp}/i3lic-demo.XXXXXX")}"
mkdir -p "$DEMO"
DEMO="$(cd "$DEMO" && pwd)"
export I3LIC_DB="$DEMO/ledger.db"
echo "Working folder: $DEMO (ledger: \$DEMO/ledger.db)"
if [ -e "$I3LIC_DB" ]; then
    echo "The folder already holds a ledger; use a new folder for the demo." >&2
    exit 2
fi

ACCOUNT="Contoso Contact Center"
SITE="Indianapolis HQ"
# The second server of the switchover pair. On a real pair you would run gethostid on it;
# here it is the example code from the hostid documentation.
PARTNER="1Q2H4-74KMZ-KWXDV-8K000-00KZQ"

say "1. The customer runs gethostid on the server before ordering"
echo '$ gethostid'
if HOST="$("$BIN/gethostid")"; then
    echo "$HOST"
    echo "This server's host ID is $HOST: the customer types it into the order."
    echo "It is made of hashes of these components (never their values):"
    "$BIN/gethostid" --json 2>/dev/null | sed -n '/"components"/,/]/p'
    echo '$ gethostid --strong'
    STRONG="$("$BIN/gethostid" --strong 2>/dev/null)"
    echo "$STRONG"
    echo "The strong form carries 65-bit fingerprints: pasted rather than typed, it binds the file"
    echo "so that no machine can be built from the code to match it. The file below binds it."
    HOST="$STRONG"
    AS_THIS_MACHINE=()
else
    HOST="1NKRG-23000-002B3-BW000-00GGJ"
    echo "This machine has too few stable components for a host ID (see the message above);"
    echo "the demo goes on with the example host ID $HOST and checks the file as that host."
    AS_THIS_MACHINE=(--host-id "$HOST")
fi

say "2. Vendor staff take the public demo signing key (never for real customers)"
mkdir -p "$DEMO/keys"
cp keys-example/demo.key keys-example/demo.pub "$DEMO/keys/"
chmod 600 "$DEMO/keys/demo.key"
echo "Copied keys-example/demo.key to \$DEMO/keys with mode 0600: issuer refuses secret keys others can read."

say "3. Vendor staff record the customer's account and install site"
run "$BIN/issuer" account add "$ACCOUNT"
run "$BIN/issuer" site add --account "$ACCOUNT" --name "$SITE" \
    --address "7601 Interactive Way" --city Indianapolis --state IN --country US --postal-code 46278

say "4. The customer's order arrives: a server pair, clients and sessions"
for item in SL03=1 SS03=1 AL02=50 AL06=120 PL04=100 PL06=100 PL09=120; do
    run "$BIN/issuer" order add --account "$ACCOUNT" --part "SW-001-4.0-${item%=*}" --quantity "${item#*=}"
done
run "$BIN/issuer" summary --account "$ACCOUNT"

say "5. Vendor staff generate the production activation file for the pair"
run "$BIN/issuer" issue --account "$ACCOUNT" --site "$SITE" --product CIC --version 4.0 \
    --type production --host-id "$HOST" --machine ic1 \
    --switchover-host-id "$PARTNER" --switchover-machine ic2 --switchover-part SW-001-4.0-SS03 \
    --server-part SW-001-4.0-SL03 \
    --add SW-001-4.0-AL02=50 --add SW-001-4.0-AL06=120 \
    --add SW-001-4.0-PL04=100 --add SW-001-4.0-PL06=100 --add SW-001-4.0-PL09=120 \
    --system-type "Media Server Based (4.0+ only)" --mail-connector "Microsoft Exchange Server" \
    --key "$DEMO/keys/demo.key" --out "$DEMO/ic1.i3lic"
echo
echo "The file is readable text; every line above the signature is signed:"
sed -n '1,12p' "$DEMO/ic1.i3lic"
echo "   ..."

say "6. The seats are now used: the account summary shows what is left"
run "$BIN/issuer" summary --account "$ACCOUNT" --site "$SITE"

say "7. The server loads the file at startup (checked as this machine)"
run "$BIN/licverify" "$DEMO/ic1.i3lic" --trust "$DEMO/keys/demo.pub" \
    --product CIC --version 4.0 "${AS_THIS_MACHINE[@]}"

say "8. The switchover partner accepts the same file, in its switchover role"
run "$BIN/licverify" "$DEMO/ic1.i3lic" --trust "$DEMO/keys/demo.pub" --host-id "$PARTNER" \
    | grep -E '^[$] |^VALID|host '

say "9. A file edited by hand is refused"
sed 's/"machine": "ic1"/"machine": "ic9"/' "$DEMO/ic1.i3lic" > "$DEMO/edited.i3lic"
set +e
run "$BIN/licverify" "$DEMO/edited.i3lic" --trust "$DEMO/keys/demo.pub" "${AS_THIS_MACHINE[@]}"
code=$?
set -e
echo "(exit code $code: signature invalid)"
[ "$code" = 10 ] || { echo "expected exit code 10" >&2; exit 1; }

FILE_ID="$(sed -n 's/^  "file_id": "\([0-9a-f]*\)",$/\1/p' "$DEMO/ic1.i3lic")"
STORE="$DEMO/allocation.db"
LICADMIN=("$BIN/licadmin" --store "$STORE" --trust "$DEMO/keys/demo.pub" "${AS_THIS_MACHINE[@]}")

say "10. The server administrator loads the file into the server's license store"
run "${LICADMIN[@]}" load "$DEMO/ic1.i3lic"
echo "What it holds, as Interaction Administrator's View License Information shows it:"
run "${LICADMIN[@]}" license

say "11. Users and a station get their licenses (Interaction Administrator's licensing)"
run "${LICADMIN[@]}" station add desk-1 --kind workstation
run "${LICADMIN[@]}" allocate --station desk-1 I3_LICENSE_BASIC_STATION
for u in alice bob carol; do
    run "${LICADMIN[@]}" user add "$u" --method assignable
    run "${LICADMIN[@]}" allocate --user "$u" I3_ACCESS_CLIENT I3_ACCESS_ACD_MEDIA_3_PLUS
done
echo "A Basic Station is for stations only: giving one to a user is refused by a license rule."
set +e
run "${LICADMIN[@]}" allocate --user alice I3_LICENSE_BASIC_STATION
code=$?
set -e
echo "(exit code $code: refused by a license rule)"
[ "$code" = 22 ] || { echo "expected exit code 22" >&2; exit 1; }
run "${LICADMIN[@]}" station list

say "12. Alice logs on at the station; the report shows allowed, configured and in use"
echo '$ licadmin ... login --user alice --station desk-1'
SESSION="$("${LICADMIN[@]}" login --user alice --station desk-1)"
echo "session $SESSION"
run "${LICADMIN[@]}" report | grep -E '^[$] |^License file|^ +Assignable|^Key|^I3_ACCESS_CLIENT |^I3_ACCESS_ACD_MEDIA_3_PLUS|^I3_LICENSE_BASIC_STATION'
run "${LICADMIN[@]}" logout "$SESSION"

say "13. A smaller file arrives: two Contact Center Level 3 seats instead of 120"
run "$BIN/issuer" update "$FILE_ID" --set SW-001-4.0-AL06=2 --generated-by "Demo" \
    --key "$DEMO/keys/demo.key" --out "$DEMO/ic1-smaller.i3lic"
echo "Before loading it, the administrator previews what it would leave out of compliance:"
run "${LICADMIN[@]}" preview "$DEMO/ic1-smaller.i3lic"
run "${LICADMIN[@]}" load "$DEMO/ic1-smaller.i3lic"
echo "Nothing was taken away; the daily compliance check reports the exceeded license:"
set +e
run "${LICADMIN[@]}" compliance
code=$?
set -e
echo "(exit code $code: out of compliance)"
[ "$code" = 23 ] || { echo "expected exit code 23" >&2; exit 1; }
echo "The usage history shows it too: per key, the count licensed against the peak in use,"
echo "as a table and as a chart (SVG, readable in any browser, no JavaScript):"
run "${LICADMIN[@]}" usage --by month --svg "$DEMO/usage.svg" |
    grep -E '^[$] |^usage |^Period|I3_ACCESS_ACD_MEDIA_3_PLUS'
echo "chart: \$DEMO/usage.svg, $(wc -c <"$DEMO/usage.svg") bytes"

say "14. The license server: the agents' clients log on over the network"
echo "Client applications (agents' clients, softphones) acquire licenses from licadmin serve,"
echo "with a bearer token (printed once; only its digest is kept):"
LS_TOKEN="$("${LICADMIN[@]}" token create softphones)"
echo '$ licadmin ... token create softphones'
LS_OUT="$DEMO/licadmin-serve.out"
"${LICADMIN[@]}" serve --listen 127.0.0.1:0 >"$LS_OUT" 2>"$DEMO/licadmin-serve.log" &
LS_PID=$!
trap 'kill "$LS_PID" 2>/dev/null || true' EXIT
LS_ADDR=
for _ in $(seq 1 100); do
    LS_ADDR="$(sed -n 's/^listening on //p' "$LS_OUT")"
    [ -n "$LS_ADDR" ] && break
    sleep 0.1
done
[ -n "$LS_ADDR" ] || { echo "demo: licadmin serve did not start:" >&2; cat "$DEMO/licadmin-serve.log" >&2; exit 1; }
echo '$ licadmin ... serve --listen 127.0.0.1:0'
echo "listening on $LS_ADDR"
echo '$ curl -X POST -H "Authorization: Bearer $TOKEN" -d '"'"'{"user": "bob", "station": "desk-1", "lease_seconds": 300}'"'"' http://'"$LS_ADDR"'/v1/sessions'
LS_SESSION="$(python3 -c 'import json,sys,urllib.request as u
r=u.Request(sys.argv[1], data=json.dumps({"user": "bob", "station": "desk-1", "lease_seconds": 300}).encode(),
    headers={"Authorization": "Bearer "+sys.argv[2], "Content-Type": "application/json"}, method="POST")
body=json.load(u.urlopen(r)); print(json.dumps(body, indent=1), file=sys.stderr); print(body["session"])' \
    "http://$LS_ADDR/v1/sessions" "$LS_TOKEN")"
echo '$ curl http://'"$LS_ADDR"'/metrics | grep -E "in_use.*(CLIENT|BASIC_STATION)|sessions"'
python3 -c 'import sys,urllib.request as u
keep=("i3lic_license_in_use{key=\"I3_ACCESS_CLIENT\"", "i3lic_license_in_use{key=\"I3_LICENSE_BASIC_STATION\"", "i3lic_sessions")
print("".join(l for l in u.urlopen(sys.argv[1]).read().decode().splitlines(True) if l.startswith(keep)), end="")' \
    "http://$LS_ADDR/metrics"
echo '$ curl -X DELETE -H "Authorization: Bearer $TOKEN" http://'"$LS_ADDR"'/v1/sessions/'"$LS_SESSION"
python3 -c 'import sys,urllib.request as u
r=u.Request(sys.argv[1], headers={"Authorization": "Bearer "+sys.argv[2]}, method="DELETE")
print(u.urlopen(r).status)' "http://$LS_ADDR/v1/sessions/$LS_SESSION" "$LS_TOKEN"
kill "$LS_PID" 2>/dev/null || true
wait "$LS_PID" 2>/dev/null || true
trap - EXIT

say "15. The customer's own portal: the Activation File Management Tool on the web"
DEMO_USER="customer@contoso.example"
DEMO_PASSWORD="demo-password-only"
echo "A certified customer user and a licensing staff user (demo passwords, never for real use):"
export I3LIC_PORTAL_PASSWORD="$DEMO_PASSWORD"
run "$BIN/portal" user add "$DEMO_USER" --role customer --account "$ACCOUNT" --certified
run "$BIN/portal" user add staff@vendor.example --role staff
run "$BIN/portal" user list
unset I3LIC_PORTAL_PASSWORD
TOKEN="$("$BIN/portal" token create "$DEMO_USER" --label demo 2>/dev/null)"
echo '$ portal token create customer@contoso.example   (an API token, printed once)'
PORT_FILE="$DEMO/portal.out"
"$BIN/portal" serve --key "$DEMO/keys/demo.key" --listen 127.0.0.1:0 >"$PORT_FILE" 2>"$DEMO/portal.log" &
PORTAL_PID=$!
trap 'kill "$PORTAL_PID" 2>/dev/null || true' EXIT
URL=
for _ in $(seq 1 100); do
    URL="$(sed -n 's/^portal listening on //p' "$PORT_FILE")"
    [ -n "$URL" ] && break
    sleep 0.1
done
[ -n "$URL" ] || { echo "demo: the portal did not start:" >&2; cat "$DEMO/portal.log" >&2; exit 1; }
echo "$ portal serve --key \$DEMO/keys/demo.key --listen 127.0.0.1:0"
echo "portal listening on $URL"
api() { python3 -c 'import json,sys,urllib.request as u
r=u.Request(sys.argv[1], headers={"Authorization": "Bearer "+sys.argv[2]})
print(json.dumps(json.load(u.urlopen(r)), indent=1)[:int(sys.argv[3])])' "$@"; }
echo '$ curl -H "Authorization: Bearer $TOKEN" '"${URL}api/v1/accounts"
api "${URL}api/v1/accounts" "$TOKEN" 400
ACCOUNT_ID="$(python3 -c 'import json,sys,urllib.request as u
r=u.Request(sys.argv[1], headers={"Authorization": "Bearer "+sys.argv[2]})
print(json.load(u.urlopen(r))["accounts"][0]["id"])' "${URL}api/v1/accounts" "$TOKEN")"
echo '$ curl -H "Authorization: Bearer $TOKEN" '"${URL}api/v1/accounts/$ACCOUNT_ID/files"
api "${URL}api/v1/accounts/$ACCOUNT_ID/files" "$TOKEN" 700
echo "   ..."
echo "The same ledger serves the issuer CLI, the portal pages and the API."
if [ -n "$KEEP_PORTAL" ]; then
    kill "$PORTAL_PID" 2>/dev/null || true
    wait "$PORTAL_PID" 2>/dev/null || true
    PORT="${I3LIC_DEMO_PORT:-8080}"
    say "The portal keeps running: open http://127.0.0.1:$PORT/ and log in"
    echo "  e-mail:   $DEMO_USER   (or staff@vendor.example for the licensing team)"
    echo "  password: $DEMO_PASSWORD"
    echo "Stop it with Ctrl-C. Everything is in $DEMO."
    trap - EXIT
    exec "$BIN/portal" serve --key "$DEMO/keys/demo.key" --listen "127.0.0.1:$PORT"
fi
kill "$PORTAL_PID" 2>/dev/null || true
wait "$PORTAL_PID" 2>/dev/null || true
trap - EXIT
echo "To click through it in a browser: ./demo.sh --portal (it prints the address and the login)."

say "16. A server is retired: its store releases the file, and the receipt returns the unit at once"
# A third server with its own license store. A request code needs a strong host ID: without
# one here, the store stands for the example machine of docs/FORMAT.md (section 11.10).
if [ ${#AS_THIS_MACHINE[@]} -eq 0 ]; then
    RETIRED=("$BIN/licadmin" --store "$DEMO/ic3.db" --trust "$DEMO/keys/demo.pub")
else
    RETIRED=("$BIN/licadmin" --store "$DEMO/ic3.db" --trust "$DEMO/keys/demo.pub"
        --host-id "2Q2H4-74BA6-JQBB1-KMZKW-HY4W2-WE9XD-V8KFM-BKSWP-A0000-00000-0000K-ZWJ4T")
fi
echo "On the server, its request code: the strong host ID and the store's install key in one line."
echo '$ licadmin ... request'
REQUEST="$("${RETIRED[@]}" request)"
echo "$REQUEST"
run "$BIN/issuer" order add --account "$ACCOUNT" --part SW-001-4.0-SL03 --quantity 1
echo "The vendor issues the file for that request code; it binds the install key to the host:"
echo '$ issuer issue ... --host-id <the request code> --machine ic3 ... --out $DEMO/ic3.i3lic'
IC3_ID="$("$BIN/issuer" issue --account "$ACCOUNT" --site "$SITE" --product CIC --version 4.0 \
    --type production --host-id "$REQUEST" --machine ic3 --server-part SW-001-4.0-SL03 \
    --key "$DEMO/keys/demo.key" --out "$DEMO/ic3.i3lic")"
echo "$IC3_ID"
grep -m1 '"install_key"' "$DEMO/ic3.i3lic"
run "${RETIRED[@]}" load "$DEMO/ic3.i3lic" | grep -E '^[$] |^Loaded|^loaded' || true
echo "The server is retired: its store stops using the file and prints a release receipt."
echo '$ licadmin ... release > $DEMO/ic3.receipt'
"${RETIRED[@]}" release >"$DEMO/ic3.receipt"
cat "$DEMO/ic3.receipt"
run "$BIN/issuer" summary --account "$ACCOUNT" --site "$SITE" | grep -E '^[$] |^Part|SL03'
run "$BIN/issuer" deactivate "$IC3_ID" --receipt "$DEMO/ic3.receipt"
run "$BIN/issuer" summary --account "$ACCOUNT" --site "$SITE" | grep -E '^[$] |^Part|SL03'
echo "The same receipt a second time is refused:"
set +e
run "$BIN/issuer" deactivate "$IC3_ID" --receipt "$DEMO/ic3.receipt"
code=$?
set -e
echo "(exit code $code: receipt already used)"
[ "$code" = 20 ] || { echo "expected exit code 20" >&2; exit 1; }
echo "Without a receipt (the pair's file, its servers gone), the units stay used, pending approval:"
SMALLER_ID="$(sed -n 's/^  "file_id": "\([0-9a-f]*\)",$/\1/p' "$DEMO/ic1-smaller.i3lic")"
run "$BIN/issuer" deactivate "$SMALLER_ID"

say "Done"
echo "Everything the demo made is in $DEMO:"
ls -l "$DEMO"
echo "Remove it with: rm -r '$DEMO'"
