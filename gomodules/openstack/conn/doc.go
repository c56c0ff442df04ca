// Package conn holds the OpenStack connection every OpenStack module of the
// collection shares: the options (named as the openstack.cloud collection
// names them: cloud, auth, auth_type, region_name, interface, validate_certs,
// ca_cert, image_endpoint_override, compute_endpoint_override,
// baremetal_endpoint_override) and the
// authenticated gophercloud clients built from them.
//
// Credentials come from, in this order of precedence: the module's `auth`
// dict, the clouds.yaml entry named by `cloud` (default: $OS_CLOUD), found as
// gophercloud finds it ($OS_CLIENT_CONFIG_FILE alone when set, else
// ./clouds.yaml, $XDG_CONFIG_HOME/openstack/clouds.yaml (~/.config/...),
// /etc/openstack/clouds.yaml) with the secure.yaml beside it merged over it,
// and parsed by gophercloud's openstack/config/clouds package. The options
// region_name, interface and ca_cert win over $OS_REGION_NAME, $OS_INTERFACE
// and $OS_CACERT, which win over the cloud's settings. With `auth_type: none` (in
// clouds.yaml or as an option) no Keystone is used and the service endpoints
// come from `image_endpoint_override` / `compute_endpoint_override` /
// `baremetal_endpoint_override`, the
// openstacksdk convention for standalone services such as a Glance deployed
// without Keystone.
//
// auth_type, when set, picks the credentials of that plugin only (password,
// token, v3applicationcredential): a token given with auth_type token wins
// over a password in clouds.yaml. Tokens are renewed ahead of their expiry and
// after a 401. Errors name the cloud and what was looked for: a missing
// endpoint says the service type, region and interface asked for and what the
// catalog offers; the error bodies of the services reach callers as one line
// of text (ResponseText) with the cloud's name.
package conn
