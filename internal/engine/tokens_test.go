package engine

import (
	"encoding/base64"
	"testing"
)

func TestCheckpointTokenRoundTripAndForgery(t *testing.T) {
	s := newSigner([]byte("0123456789abcdef0123456789abcdef"))
	tok := s.checkpointToken("exec-1", 42)
	id, seq, err := s.parseCheckpointToken(tok)
	if err != nil || id != "exec-1" || seq != 42 {
		t.Fatalf("round trip: got (%q, %d, %v)", id, seq, err)
	}
	other := newSigner([]byte("another-key-another-key-another!"))
	if _, _, err := other.parseCheckpointToken(tok); err == nil {
		t.Fatal("a token signed with another key was accepted")
	}
	raw, _ := base64.StdEncoding.DecodeString(tok)
	raw[2] ^= 1 // flip a payload bit
	if _, _, err := s.parseCheckpointToken(base64.StdEncoding.EncodeToString(raw)); err == nil {
		t.Fatal("a tampered token was accepted")
	}
	if _, _, err := s.parseCheckpointToken(s.callbackID("exec-1", "op", 1)); err == nil {
		t.Fatal("a callback id was accepted as a checkpoint token")
	}
	for _, bad := range []string{"", "AAAA", "not base64!"} {
		if _, _, err := s.parseCheckpointToken(bad); err == nil {
			t.Fatalf("malformed token %q was accepted", bad)
		}
	}
}

func TestCallbackIDsAreUniqueAndRoutable(t *testing.T) {
	s := newSigner([]byte("0123456789abcdef0123456789abcdef"))
	a := s.callbackID("exec-1", "op-1", 1)
	b := s.callbackID("exec-2", "op-1", 1)
	c := s.callbackID("exec-1", "op-1", 2)
	if a == b || a == c {
		t.Fatalf("callback ids collide: %q %q %q", a, b, c)
	}
	exec, op, err := s.parseCallbackID(b)
	if err != nil || exec != "exec-2" || op != "op-1" {
		t.Fatalf("parse: got (%q, %q, %v)", exec, op, err)
	}
	if !callbackIDPattern.MatchString(a) {
		t.Fatalf("callback id %q does not match AWS's pattern", a)
	}
}
