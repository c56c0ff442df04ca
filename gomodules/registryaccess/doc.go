// Package registryaccess is how the collection reaches container registries,
// shared by the modules that talk to them (mirror_images, image_manifest
// with pin_digests):
//
//   - AccessOptions and Access: the modules' registry_auth,
//     insecure_registries and ca_cert options, turned into Options;
//   - Option and Client: credentials per registry (then the keychain), the
//     trusted roots, plain HTTP or unverified TLS for the registries the user
//     lists, retries with back-off and the response timeout, as
//     go-containerregistry's remote and name options and an HTTP transport;
//   - FailFast: a transport that fails at once the requests to a host that
//     could not be connected to earlier in the run;
//   - Reason and ReasonOf: why a request failed (auth, not found, network,
//     tls, ...), for reports and errors;
//   - Resolve: the digest each tag points at, one HEAD per reference.
//
// It knows nothing of copying (package mirror) or manifests (package
// manifest): those are its callers.
package registryaccess
