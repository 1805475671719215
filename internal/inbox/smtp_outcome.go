package inbox

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	mail "github.com/wneessen/go-mail"
)

// smtpOutcome classifies err from go-mail's DialAndSend of m: nil when the
// server confirmed the message (an error after that — RSET, QUIT — changes
// nothing, and sending again would deliver it twice), else err.
//
// A connection lost after the message's final dot, before the server's
// answer, leaves the outcome unknown: the server may hold the message, or
// may have dropped it with the connection, and ghsync cannot tell which (a
// message cut mid-DATA looks the same from this side). The action then
// fails and a later run sends it again — at least once, never lost — with
// the same Message-ID (messageID), so the two copies are one message to
// mail systems that drop duplicates by Message-ID.
func smtpOutcome(m *mail.Msg, err error) error {
	if err == nil || m.IsDelivered() {
		return nil
	}
	return err
}

// messageID is the email's Message-ID: the same for the same set content
// (fingerprint: the files' keys and ETags) and the same message, so a
// message sent again after a lost answer is recognisably the same one,
// while a new upload of the set gets a new one.
func messageID(p emailPayload, fingerprint string) string {
	h := sha256.New()
	for _, s := range append([]string{fingerprint, p.From, p.Subject, p.Body}, p.To...) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	domain := "ghsync.invalid"
	if i := strings.LastIndexByte(p.From, '@'); i >= 0 && i+1 < len(p.From) {
		domain = strings.Trim(p.From[i+1:], "<> ")
	}
	return "ghsync." + hex.EncodeToString(h.Sum(nil)[:16]) + "@" + domain
}
