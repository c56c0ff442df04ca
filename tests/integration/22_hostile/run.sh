#!/usr/bin/env bash
# Hostile images and secrets through real ansible-playbook against a real local Glance
# (issue 8): qcow2 with a backing file /etc/passwd, with an external data file, truncated,
# of 1 PiB, of 4 TiB converted to raw; vmdk with a backing file or an extent /etc/passwd;
# a 4 TiB vhdx; a gzip bomb; /etc/shadow as a public kernel: each refused, nothing left in
# Glance or workdir. Then a -vvv --diff run whose whole output, and what Glance stores, must
# hold none of the secrets of its URLs (userinfo with / @ :, every kind of query secret) and
# of its clouds.yaml (password, password inside auth_url). Stops what it started.
set -uo pipefail
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"
here="$repo/tests/integration/22_hostile"
state="$repo/build/hostile-suite"
log="$state/logs"

suite_with_glance "$state"
mkdir -p "$state/work"
bash "$here/make_images.sh" "$state/images" >"$log/make_images.log" 2>&1 || { cat "$log/make_images.log"; exit 1; }
base=$(suite_serve "$state/images") || exit 1
cat >"$state/clouds.yaml" <<YAML
clouds:
  leaky:
    auth:
      auth_url: http://admin:Auth/Url@Pw12@127.0.0.1:9/v3
      username: admin
      password: CloudPw11
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
YAML
vars=(-e "glance=$G" -e "base=$base" -e "workdir=$state/work" -e "clouds=$state/clouds.yaml")

names_in_glance() { curl --noproxy '*' -sf "$G/v2/images?limit=1000&visibility=all" | python3 -c 'import json,sys; print(" ".join(i["name"] for i in json.load(sys.stdin)["images"]))'; }

hostile_refused() { playbook "$here/hostile.yml" "${vars[@]}"; }
role_refuses_one_keeps_other() { # the hostile spec fails, the good one is in Glance, nothing else
  local out
  out=$(playbook "$here/role_hostile.yml" "${vars[@]}" -e '{"specs": {"bad": {"name": "hostile-role-bad", "source_url": "'"$base"'/backing-passwd.qcow2"}, "good": {"name": "role-good", "source_url": "'"$base"'/good.qcow2"}}}' 2>&1)
  echo "$out"
  grep -q 'bad: .*names a backing file' <<<"$out" || return 1
  grep -q 'the role accepted a hostile image' <<<"$out" && return 1
  local names
  names=$(names_in_glance)
  echo "in Glance: $names"
  [[ " $names " == *" role-good "* ]] && [[ " $names " != *" hostile-role-bad "* ]] && [ -z "$(ls -A "$state/work")" ]
}
secrets=(Pa/ss Pa%2Fss W0rd Auth/Url Url@Pw12 Auth%2FUrl CloudPw11 SigSecret01 AmzSig02 AKIACRED03 SessTok04 AccTok05 ApiKey06 ApiKey07 Tok08 Sig09 QPw10)
no_secret_in_vvv() { # every secret, in the -vvv --diff output and in what Glance stores
  local out leaked=0
  out=$(playbook "$here/secrets.yml" "${vars[@]}" -vvv --diff 2>&1)
  local rc=$?
  echo "$out"
  local stored
  stored=$(curl --noproxy '*' -sf "$G/v2/images?name=hostile-secret-url&visibility=all")
  echo "Glance holds: $stored"
  grep -q '"imageops_source_url": "http://REDACTED@127.0.0.1:[0-9]*/good.qcow2?sig=REDACTED&' <<<"$stored" || { echo "Glance's provenance property is not the redacted URL"; return 1; }
  out+=$stored
  for secret in "${secrets[@]}"; do
    if grep -qF -- "$secret" <<<"$out"; then
      echo "LEAKED: $secret"
      leaked=1
    fi
  done
  # The run did show the URLs, with their secrets masked, and the failures' messages.
  [ "$rc" -eq 0 ] && [ "$leaked" -eq 0 ] && grep -q 'sig=\*\*\*\*\*\*\*\*' <<<"$out" &&
    grep -q '"imageops_source_url": "http://REDACTED@127.0.0.1' <<<"$out" && grep -q 'authenticating to cloud' <<<"$out"
}

step hostile_images_refused hostile_refused
step role_refuses_hostile_spec role_refuses_one_keeps_other
step no_secret_in_vvv_output no_secret_in_vvv
suite_finish hostile
