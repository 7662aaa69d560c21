// SPDX-License-Identifier: BSD-3-Clause
//
// go_echo: the seed-faithful baseline for the benchmark matrix. The seed's
// gateway is a Go server with gorilla/websocket over crypto/tls, one
// goroutine per connection; this is that shape with echo as the service:
// every message comes back as it came (same opcode, same bytes).
//
//	go_echo -listen 127.0.0.1:9443 -mode wss -cert chain.crt -key server.key
//	go_echo -listen 127.0.0.1:9000 -mode framed
//
// Modes: ws, wss (TLS 1.3 only), framed (4-byte big-endian length + payload
// over TCP), framed_tls. Pin it to one core the way the benchmark does:
// GOMAXPROCS=1 taskset -c N go_echo ...
package main

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/gorilla/websocket"
)

var (
	listen     = flag.String("listen", "127.0.0.1:9443", "address:port to listen on")
	mode       = flag.String("mode", "wss", "ws, wss, framed or framed_tls")
	certFile   = flag.String("cert", "", "PEM certificate chain (wss, framed_tls)")
	keyFile    = flag.String("key", "", "PEM private key (wss, framed_tls)")
	path       = flag.String("path", "/", "WebSocket request path")
	maxMessage = flag.Int("max-message", 64*1024, "largest message accepted, bytes")

	conns    atomic.Int64 // open now
	accepted atomic.Int64
	messages atomic.Int64
	failures atomic.Int64 // connections that ended with an error other than a close
)

func tlsConfig() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS13,
	}, nil
}

var upgrader = websocket.Upgrader{
	ReadBufferSize:  4096,
	WriteBufferSize: 4096,
	CheckOrigin:     func(*http.Request) bool { return true },
}

func wsHandler(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		failures.Add(1)
		return
	}
	accepted.Add(1)
	conns.Add(1)
	defer conns.Add(-1)
	defer c.Close()
	c.SetReadLimit(int64(*maxMessage))
	for {
		op, msg, err := c.ReadMessage()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure,
				websocket.CloseGoingAway, websocket.CloseNoStatusReceived) &&
				!errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				failures.Add(1)
			}
			return
		}
		if err := c.WriteMessage(op, msg); err != nil {
			failures.Add(1)
			return
		}
		messages.Add(1)
	}
}

// framedConn echoes 4-byte-length-prefixed messages until EOF.
func framedConn(c net.Conn) {
	accepted.Add(1)
	conns.Add(1)
	defer conns.Add(-1)
	defer c.Close()
	r := bufio.NewReaderSize(c, 4096)
	w := bufio.NewWriterSize(c, 4096)
	var hdr [4]byte
	buf := make([]byte, 0, 4096)
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if !errors.Is(err, io.EOF) {
				failures.Add(1)
			}
			return
		}
		n := int(binary.BigEndian.Uint32(hdr[:]))
		if n > *maxMessage {
			failures.Add(1)
			return
		}
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			failures.Add(1)
			return
		}
		w.Write(hdr[:])
		w.Write(buf)
		// flush only when no further request is already buffered: the
		// replies of a pipelined burst leave in one write
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				failures.Add(1)
				return
			}
		}
		messages.Add(1)
	}
}

func serveFramed(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetNoDelay(true)
		}
		go framedConn(c)
	}
}

func main() {
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("go_echo: ")

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	secure := *mode == "wss" || *mode == "framed_tls"
	switch *mode {
	case "ws", "wss", "framed", "framed_tls":
	default:
		log.Fatalf("unknown mode %q (ws, wss, framed, framed_tls)", *mode)
	}
	if secure {
		cfg, err := tlsConfig()
		if err != nil {
			log.Fatalf("TLS: %v", err)
		}
		ln = tls.NewListener(ln, cfg)
	}

	// SIGTERM/SIGINT: print the counters on stdout and leave; the
	// benchmark reads them to check the server saw what the client sent.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		fmt.Printf("accepted=%d open=%d messages=%d failures=%d\n", accepted.Load(),
			conns.Load(), messages.Load(), failures.Load())
		os.Exit(0)
	}()
	fmt.Fprintf(os.Stderr, "go_echo: %s on %s\n", *mode, ln.Addr())

	if *mode == "framed" || *mode == "framed_tls" {
		log.Fatal(serveFramed(ln))
	}
	mux := http.NewServeMux()
	mux.HandleFunc(*path, wsHandler)
	srv := &http.Server{Handler: mux}
	log.Fatal(srv.Serve(ln))
}
