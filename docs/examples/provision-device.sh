#!/bin/sh
# A device's first boot with nothing but openssl and the Mosquitto clients (mosquitto_rr, mosquitto_pub).
#
#   provision-device.sh SERIAL FACTORY_DIR HOST PORT STATE_DIR
#
# FACTORY_DIR is what `flotilla factory batch --out` wrote (claim.pem, claim.key, ca-chain.pem).
# STATE_DIR receives the device's own key and certificate. Exit status 0 = provisioned and online.
set -eu

serial=$1 factory=$2 host=$3 port=$4 state=$5
mkdir -p "$state"
umask 077

# 1. The key is made on the device and never leaves it.
if [ ! -s "$state/device.key" ]; then
  openssl ecparam -name prime256v1 -genkey -noout -out "$state/device.key.tmp"
  mv "$state/device.key.tmp" "$state/device.key"
fi
openssl req -new -key "$state/device.key" -subj "/CN=$serial/serialNumber=$serial" -out "$state/device.csr"

# 2. The request: JSON with the CSR, newlines escaped as \n.
csr=$(awk 'BEGIN { ORS = "\\n" } { print }' "$state/device.csr")
request="{\"serial\":\"$serial\",\"csrPem\":\"$csr\"}"

# 3. Claim session: TLS with the batch's claim certificate, client id = serial; publish the request
#    and wait for the response on one connection (MQTT 3.1.1, QoS 1).
mosquitto_rr -V 311 -q 1 -W 30 --cafile "$factory/ca-chain.pem" --cert "$factory/claim.pem" --key "$factory/claim.key" \
  -h "$host" -p "$port" -i "$serial" \
  -t "fl/provision/$serial/request" -e "fl/provision/$serial/response" -m "$request" > "$state/response.json"

if ! grep -q '"status":"accepted"' "$state/response.json"; then
  echo "provisioning refused: $(cat "$state/response.json")" >&2
  exit 1
fi

# 4. Keep the certificate (device certificate followed by the issuing CA), written atomically.
sed -n 's/.*"certificatePem":"\([^"]*\)".*/\1/p' "$state/response.json" | sed 's/\\n/\n/g' > "$state/device.pem.tmp"
mv "$state/device.pem.tmp" "$state/device.pem"
cp "$factory/ca-chain.pem" "$state/ca-chain.pem"

# 5. Operational: connect with the device's own identity (client id = device id = serial) and report state.
mosquitto_pub -V 311 -q 1 --cafile "$state/ca-chain.pem" --cert "$state/device.pem" --key "$state/device.key" \
  -h "$host" -p "$port" -i "$serial" -t "fl/d/$serial/state/reported" \
  -m "{\"seq\":$(date +%s),\"firmwareVersion\":\"1.0.0\",\"hardware\":{\"model\":\"shell\",\"revision\":\"A\"},\"serial\":\"$serial\",\"uptimeS\":1}"
echo "provisioned $serial"
