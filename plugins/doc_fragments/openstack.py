# -*- coding: utf-8 -*-
# Copyright: imageops.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenStack connection options shared by every OpenStack module of imageops.cloud.

The options are those of the Go package gomodules/openstack/conn (conn.Options);
TestDocFragmentMatchesOptions there checks that this file and the code agree.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  cloud:
    description:
      - Name of the cloud to use, an entry of the C(clouds) mapping of a C(clouds.yaml) file
        (see the notes for where that file is looked for).
      - The entry gives the defaults for every other connection option, including I(auth) and
        I(auth_type).
      - When not set, the C(OS_CLOUD) environment variable of the target names the cloud. Not
        needed when I(auth) or I(auth_type=none) describes the cloud completely.
    type: str
  auth:
    description:
      - Authentication values for the cloud's auth plugin, as under C(auth) in C(clouds.yaml).
        For password authentication these are I(auth_url), I(username), I(password),
        I(project_name) (or I(project_id)) and the domains, usually I(user_domain_name) and
        I(project_domain_name). Application credentials use I(application_credential_id) and
        I(application_credential_secret); a token uses I(token).
      - With I(cloud), these keys are set over that cloud's own C(auth) keys, one by one, so a
        task can replace a single value such as the password or the project.
      - Its secrets (I(password), I(token), I(application_credential_secret), I(passcode), I(totp),
        I(client_secret), I(access_token), I(secret)) are C(no_log), hidden wherever they would appear
        in the task's output. The other values stay visible, so that an error can say which
        I(auth_url) failed.
    type: dict
  auth_type:
    description:
      - The auth plugin, as C(auth_type) in C(clouds.yaml). When not set, the cloud's is used, and
        the kind of authentication follows from the I(auth) values given (password, token or
        application credential).
      - When set, only that plugin's I(auth) values are used, wherever they come from. C(password)
        (or C(v3password)) needs I(password); C(token) (or C(v3token)) needs I(token) and a project
        (I(project_name) with its domain, or I(project_id)); the token is exchanged for one scoped
        to that project, and a password in C(clouds.yaml) is ignored; C(v3applicationcredential)
        needs I(application_credential_id) (or I(application_credential_name) with the user) and
        I(application_credential_secret). Other plugins are refused with a list of these.
      - Tokens are renewed before they expire and after a 401, so long runs outlive a token
        (a renewal needs credentials that can make a new token; with I(auth_type=token) a run can
        last no longer than the given token).
      - C(none) uses no Keystone at all, for a standalone Glance. Requests then go without a
        token to I(image_endpoint_override) (and I(compute_endpoint_override),
        I(baremetal_endpoint_override)), which must be set.
    type: str
  region_name:
    description:
      - Region whose endpoints are taken from the service catalog. When not set,
        C(OS_REGION_NAME) is used, else the cloud's C(region_name).
    type: str
  interface:
    description:
      - Which endpoint of the service catalog to use for each service.
      - When not set, C(OS_INTERFACE) is used, else the cloud's C(interface), else C(public).
    type: str
    choices: [public, internal, admin]
    aliases: [endpoint_type]
  validate_certs:
    description:
      - Whether TLS certificates of the cloud's endpoints (Keystone and services) are verified.
      - When not set, the cloud's C(verify) setting applies, which defaults to verifying. Set to
        C(false) only for test clouds with self-signed certificates; prefer I(ca_cert).
    type: bool
    aliases: [verify]
  ca_cert:
    description:
      - Path, on the target, to a PEM file of the certificate authorities that sign the cloud's
        certificates, used instead of the system's. When not set, C(OS_CACERT) is used, else
        the cloud's C(cacert).
    type: path
    aliases: [cacert]
  image_endpoint_override:
    description:
      - URL of the image service (Glance) to use instead of the one in the service catalog, with
        or without its C(/v2) suffix, for example C(http://glance.example.com:9292).
      - Required with I(auth_type=none). When not set, the cloud's C(image_endpoint_override) is
        used.
    type: str
  compute_endpoint_override:
    description:
      - URL of the compute service (Nova) to use instead of the one in the service catalog,
        including its version, for example C(https://nova.example.com:8774/v2.1).
      - When not set, the cloud's C(compute_endpoint_override) is used.
    type: str
  baremetal_endpoint_override:
    description:
      - URL of the Bare Metal service (Ironic) to use instead of the C(baremetal) endpoint of
        the service catalog, for example C(http://ironic.example.com:6385), for a standalone
        Ironic with I(auth_type=none).
      - When not set, the cloud's C(baremetal_endpoint_override) is used.
    type: str
  api_retries:
    description:
      - How many times a Glance call that failed with a 5xx or 429 answer, or without an answer
        (connection refused or reset), is tried again, with exponential back-off from
        I(api_retry_delay) (doubling, at most 60 seconds between two tries).
      - A create whose answer was lost is looked for again (by a marker property unique to the
        upload, C(imageops_run)) before it is sent again, so a retry never makes a second image;
        an upload is retried into a new image from the start of its data (the converted file, or
        the source URL downloaded again), after the image of the failed try was deleted.
      - C(0) never retries.
    type: int
    default: 5
  api_retry_delay:
    description:
      - Seconds to wait before the first retry of a Glance call (see I(api_retries)).
    type: float
    default: 2.0
  upload_stale_after:
    description:
      - Seconds an unfinished image created by this collection (it has the property
        C(imageops_source_url) but not yet C(imageops_source_size), that is C(queued), C(saving), or
        holding data never verified) may show no progress in Glance (its C(updated_at)) before any
        run deletes it as the leftover of a run that died (killed, rebooted, or Glance restarted
        mid-upload, which leaves a C(saving) image).
      - Until then it is another run's upload in progress, which a run waits for and then uses
        instead of uploading the same image again. A run uploading shows its progress by updating
        the image every I(upload_stale_after)/4 seconds.
      - Clocks of the hosts running modules and of Glance must agree to well within this bound.
      - At least 4.
    type: int
    default: 600
requirements:
  - Nothing on the target. The module is a static Linux binary (amd64 or arm64) that needs
    neither Python libraries nor openstacksdk.
notes:
  - The module runs on the target, so C(clouds.yaml), certificate files and environment variables
    are those of the target (usually C(localhost)).
  - C(clouds.yaml) is looked for, in this order, as openstacksdk and gophercloud look for it, and
    the first file found is used. C(OS_CLIENT_CONFIG_FILE), when set, is the only file looked at.
    Otherwise C(clouds.yaml) in the working directory,
    C($XDG_CONFIG_HOME/openstack/clouds.yaml) (by default C(~/.config/openstack/clouds.yaml)), and
    C(/etc/openstack/clouds.yaml). A C(secure.yaml) beside the file found is merged over it, which
    keeps passwords apart from the rest of the configuration.
  - The cloud is I(cloud), else the C(OS_CLOUD) environment variable. Task options win over the
    environment variables C(OS_REGION_NAME), C(OS_INTERFACE) and C(OS_CACERT), which win over the
    cloud's settings; I(auth) keys win over the cloud's C(auth) keys.
  - Credentials given only as C(OS_AUTH_URL), C(OS_USERNAME) and similar environment variables are
    not read; put them in C(clouds.yaml) or in I(auth).
"""
