package deploy_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"healthsync/internal/inputfile"
)

// Key files must not be readable by other users: healthsync refuses them
// (package inputfile). These tests hold every way of deploying it to
// that rule, so a deployment that follows the files here starts.

// TestKubernetesKeyFilesPrivate: every key file the Deployment names is
// in a mounted secret volume whose files the service can read and the
// rule accepts, with the modes the kubelet really gives them.
func TestKubernetesKeyFilesPrivate(t *testing.T) {
	dep := byKind(t, loadManifests(t), "Deployment")
	pod := path(dep.doc, "spec.template.spec")
	c := list(pod, "containers")[0]
	runAs, _ := path(pod, "securityContext.runAsUser").(int)
	runGroup, _ := path(pod, "securityContext.runAsGroup").(int)
	fsGroup, hasFSGroup := path(pod, "securityContext.fsGroup").(int)
	if runAs == 0 {
		t.Fatal("the pod does not run as a non-root user: the key-file rule cannot be checked")
	}

	volumes := map[string]any{}
	for _, v := range list(pod, "volumes") {
		volumes[str(v, "name")] = v
	}
	keyFiles := 0
	for _, e := range list(c, "env") {
		name := str(e, "name")
		if !strings.HasSuffix(name, "_KEY_FILE") {
			continue
		}
		keyFiles++
		file := str(e, "value")
		var vol any
		var rel string
		for _, vm := range list(c, "volumeMounts") {
			if mp := str(vm, "mountPath"); strings.HasPrefix(file, mp+"/") {
				vol, rel = volumes[str(vm, "name")], strings.TrimPrefix(file, mp+"/")
			}
		}
		sec := path(vol, "secret")
		if sec == nil {
			t.Errorf("%s=%s is not in a mounted secret volume", name, file)
			continue
		}
		mode := 0o644 // the API's default for secret volumes
		if m, ok := path(sec, "defaultMode").(int); ok {
			mode = m
		}
		found := false
		for _, it := range list(sec, "items") {
			if str(it, "path") == rel {
				found = true
				if m, ok := path(it, "mode").(int); ok {
					mode = m
				}
			}
		}
		if !found && len(list(sec, "items")) > 0 {
			t.Errorf("%s=%s: the secret volume has no item at %s", name, file, rel)
		}
		// The kubelet makes the files root-owned; with fsGroup it gives
		// them that group and adds group read.
		group := 0
		if hasFSGroup {
			mode |= 0o440
			group = fsGroup
		}
		if err := inputfile.Private(os.FileMode(mode), false); err != nil {
			t.Errorf("%s=%s: mode %04o: healthsync would refuse it: %v", name, file, mode, err)
		}
		readable := mode&0o004 != 0 || (mode&0o040 != 0 && group != 0 && (group == runGroup || group == fsGroup))
		if !readable {
			t.Errorf("%s=%s: mode %04o, group %d: user %d cannot read it", name, file, mode, group, runAs)
		}
	}
	if keyFiles == 0 {
		t.Fatal("the Deployment names no key file: the test proves nothing")
	}
}

// TestSystemdKeyFilesPrivate: the unit's key files (set, or shown in its
// comments as the way to set them) come from systemd credentials, which
// only the service can read, and what the service creates is private.
func TestSystemdKeyFilesPrivate(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("systemd", "healthsync.service"))
	if err != nil {
		t.Fatal(err)
	}
	env := regexp.MustCompile(`^#?\s*Environment=(HEALTHSYNC_[A-Z_]+_KEY_FILE)=(\S+)$`)
	cred := regexp.MustCompile(`^#?\s*LoadCredential=([^:]+):(\S+)$`)
	creds := map[string]bool{}
	var keys [][]string
	umask := ""
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if m := env.FindStringSubmatch(l); m != nil {
			keys = append(keys, m[1:])
		}
		if m := cred.FindStringSubmatch(l); m != nil {
			creds[m[1]] = true
		}
		if v, ok := strings.CutPrefix(l, "UMask="); ok {
			umask = v
		}
	}
	if len(keys) == 0 {
		t.Fatal("the unit shows no key file setting: the test proves nothing")
	}
	for _, k := range keys {
		name, value := k[0], k[1]
		c, ok := strings.CutPrefix(value, "%d/")
		if !ok || !creds[c] {
			t.Errorf("%s=%s: not a credential loaded with LoadCredential= (%%d/NAME), which only the service can read", name, value)
		}
	}
	if umask != "0077" {
		t.Errorf("UMask=%q, want 0077 so nothing the service creates is readable by others", umask)
	}
}

// TestKeyFileRuleDocumented: .env.example says the rule where it lists
// each key file variable, and the image build keeps key files out.
func TestKeyFileRuleDocumented(t *testing.T) {
	data, err := os.ReadFile(".env.example")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	seen := 0
	for i, l := range lines {
		m := regexp.MustCompile(`^#?\s*(HEALTHSYNC_[A-Z_]+_KEY_FILE)=`).FindStringSubmatch(l)
		if m == nil {
			continue
		}
		seen++
		// The comment block above it, across the variables it covers
		// (USERNAME and JWT_KEY_FILE share one).
		comment := ""
		for j := i - 1; j >= 0; j-- {
			if regexp.MustCompile(`^HEALTHSYNC_[A-Z_]+=`).MatchString(lines[j]) {
				continue
			}
			if !strings.HasPrefix(lines[j], "#") {
				break
			}
			comment = lines[j] + "\n" + comment
		}
		if !strings.Contains(comment, "chmod 600") {
			t.Errorf(".env.example: the comment above %s does not say the key file must be private (chmod 600):\n%s", m[1], comment)
		}
	}
	if seen == 0 {
		t.Fatal(".env.example lists no key file variable")
	}
	ignore, err := os.ReadFile("Dockerfile.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"**/*.key", "**/*.pem"} {
		if !strings.Contains(string(ignore), p+"\n") {
			t.Errorf("Dockerfile.dockerignore does not keep %s out of the image", p)
		}
	}
}
