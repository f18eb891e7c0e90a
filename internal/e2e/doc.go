// Package e2e holds Duro's end-to-end tests. Each test starts a complete
// node (server.Start: store, engine, runtime, wire API) on a loopback port
// and drives it only through the AWS SDK for Go's Lambda client — or raw
// HTTP where the test is about the bytes on the wire — with durable
// functions written with internal/durable and registered in-process.
//
// The tests live in their own package, rather than in internal/server, so
// that they can only use what a real client can: exported server
// construction, the HTTP endpoint and the SDK. The package has no non-test
// code besides this file.
package e2e
