// Package server is the composition root: it opens the database and the
// blob store, wires the services to the HTTP layers and runs the server
// until it is told to stop.
package server
