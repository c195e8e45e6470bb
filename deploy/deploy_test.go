// Package deploy_test checks the deployment files without kubectl, Docker
// or systemd: the Kubernetes manifests parse and hold the structure the
// worker needs, the Dockerfile builds exactly what `make build` builds, the
// systemd unit is hardened, and deploy/.env.example lists every variable
// the code reads.
package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"healthsync/status"
	"healthsync/store"
	"healthsync/store/storetest"
)

// repoRoot is the module root, one level up from deploy/.
const repoRoot = ".."

// manifest is one parsed YAML document.
type manifest struct {
	file string
	doc  map[string]any
}

func (m manifest) kind() string { s, _ := m.doc["kind"].(string); return s }

// loadManifests parses every YAML document under deploy/kubernetes.
func loadManifests(t *testing.T) []manifest {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("kubernetes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deploy/kubernetes: %v", err)
	}
	var out []manifest
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var doc map[string]any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if doc != nil {
				out = append(out, manifest{file: f, doc: doc})
			}
		}
	}
	return out
}

// path walks nested maps and lists: "spec.template.spec.containers.0".
func path(v any, p string) any {
	for _, part := range strings.Split(p, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[part]
		case []any:
			i := 0
			for _, c := range part {
				if c < '0' || c > '9' {
					return nil
				}
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func str(v any, p string) string { s, _ := path(v, p).(string); return s }

func list(v any, p string) []any { l, _ := path(v, p).([]any); return l }

// apiVersions are the known kinds and their API groups.
var apiVersions = map[string]string{
	"Deployment":          "apps/v1",
	"Service":             "v1",
	"ConfigMap":           "v1",
	"Secret":              "v1",
	"PodDisruptionBudget": "policy/v1",
	"Kustomization":       "kustomize.config.k8s.io/v1beta1",
}

func byKind(t *testing.T, ms []manifest, kind string) manifest {
	t.Helper()
	var found []manifest
	for _, m := range ms {
		if m.kind() == kind {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %s manifest, found %d", kind, len(found))
	}
	return found[0]
}

func TestManifestsStructure(t *testing.T) {
	ms := loadManifests(t)
	for _, m := range ms {
		want, ok := apiVersions[m.kind()]
		if !ok {
			t.Errorf("%s: unknown kind %q", m.file, m.kind())
			continue
		}
		if got := str(m.doc, "apiVersion"); got != want {
			t.Errorf("%s: %s apiVersion %q, want %q", m.file, m.kind(), got, want)
		}
		if m.kind() != "Kustomization" && str(m.doc, "metadata.name") == "" {
			t.Errorf("%s: %s without metadata.name", m.file, m.kind())
		}
	}

	dep := byKind(t, ms, "Deployment")
	secret := byKind(t, ms, "Secret")
	cm := byKind(t, ms, "ConfigMap")
	svc := byKind(t, ms, "Service")
	kust := byKind(t, ms, "Kustomization")
	envNames := envExampleNames(t)

	if r, _ := path(dep.doc, "spec.replicas").(int); r < 2 {
		t.Errorf("Deployment replicas = %v, want 2 or more (several replicas share Postgres through leases)", path(dep.doc, "spec.replicas"))
	}
	podLabels, _ := path(dep.doc, "spec.template.metadata.labels").(map[string]any)
	selector, _ := path(dep.doc, "spec.selector.matchLabels").(map[string]any)
	for k, v := range selector {
		if podLabels[k] != v {
			t.Errorf("Deployment selector %s=%v does not match the pod labels", k, v)
		}
	}
	if path(dep.doc, "spec.template.spec.securityContext.runAsNonRoot") != true {
		t.Error("pod securityContext.runAsNonRoot is not true")
	}
	containers := list(dep.doc, "spec.template.spec.containers")
	if len(containers) != 1 {
		t.Fatalf("want one container, got %d", len(containers))
	}
	c := containers[0]
	for p, want := range map[string]any{
		"securityContext.runAsNonRoot":             true,
		"securityContext.readOnlyRootFilesystem":   true,
		"securityContext.allowPrivilegeEscalation": false,
	} {
		if got := path(c, p); got != want {
			t.Errorf("container %s = %v, want %v", p, got, want)
		}
	}
	for _, p := range []string{"resources.requests.cpu", "resources.requests.memory", "resources.limits.cpu", "resources.limits.memory"} {
		if path(c, p) == nil {
			t.Errorf("container %s is not set", p)
		}
	}
	// The container port the probes and Service use.
	portByName := map[string]int{}
	for _, p := range list(c, "ports") {
		n, _ := path(p, "containerPort").(int)
		portByName[str(p, "name")] = n
	}
	if portByName["http"] != 8080 {
		t.Errorf("container port http = %d, want 8080", portByName["http"])
	}
	if !slices.Contains(flatStrings(list(c, "args")), "0.0.0.0:8080") {
		t.Errorf("container args %v do not listen on 0.0.0.0:8080", list(c, "args"))
	}

	// Secrets: every secretKeyRef and secret volume item names a key of
	// the example Secret; credentials are never literal values.
	secretKeys := map[string]bool{}
	if sd, ok := path(secret.doc, "stringData").(map[string]any); ok {
		for k := range sd {
			secretKeys[k] = true
		}
	}
	secretName := str(secret.doc, "metadata.name")
	env := map[string]any{}
	for _, e := range list(c, "env") {
		name := str(e, "name")
		env[name] = e
		if !envNames[name] {
			t.Errorf("env %s is not listed in deploy/.env.example", name)
		}
		if ref := path(e, "valueFrom.secretKeyRef"); ref != nil {
			if str(ref, "name") != secretName || !secretKeys[str(ref, "key")] {
				t.Errorf("env %s refers to secret %s key %q, which the example Secret does not define", name, str(ref, "name"), str(ref, "key"))
			}
		}
	}
	for _, name := range []string{"HEALTHSYNC_DATABASE_URL", "HEALTHSYNC_ENCRYPTION_KEY", "HEALTHSYNC_STATUS_TOKEN"} {
		if path(env[name], "valueFrom.secretKeyRef") == nil {
			t.Errorf("env %s must come from the Secret (secretKeyRef), not a literal", name)
		}
	}
	for _, v := range list(dep.doc, "spec.template.spec.volumes") {
		if sec := path(v, "secret"); sec != nil {
			if str(sec, "secretName") != secretName {
				t.Errorf("volume %s mounts secret %q, want %q", str(v, "name"), str(sec, "secretName"), secretName)
			}
			for _, it := range list(sec, "items") {
				if !secretKeys[str(it, "key")] {
					t.Errorf("volume %s mounts secret key %q, absent from the example Secret", str(v, "name"), str(it, "key"))
				}
			}
		}
	}
	if cmData, ok := path(cm.doc, "data").(map[string]any); !ok || cmData["healthsync.yaml"] == nil {
		t.Error("the ConfigMap holds no healthsync.yaml")
	} else {
		var mf map[string]any
		if err := yaml.Unmarshal([]byte(cmData["healthsync.yaml"].(string)), &mf); err != nil {
			t.Errorf("the ConfigMap's healthsync.yaml does not parse: %v", err)
		}
	}

	// The mapping file: HEALTHSYNC_MAPPING_FILE is the mount of the
	// ConfigMap's healthsync.yaml.
	mappingFile := str(env["HEALTHSYNC_MAPPING_FILE"], "value")
	volumes := map[string]any{}
	for _, v := range list(dep.doc, "spec.template.spec.volumes") {
		volumes[str(v, "name")] = v
	}
	mounted := false
	for _, vm := range list(c, "volumeMounts") {
		v := volumes[str(vm, "name")]
		if v == nil {
			t.Errorf("volumeMount %s names no volume", str(vm, "name"))
			continue
		}
		if str(vm, "mountPath") == mappingFile && str(v, "configMap.name") == str(cm.doc, "metadata.name") && str(vm, "subPath") == "healthsync.yaml" {
			mounted = true
		}
	}
	if mappingFile == "" || !mounted {
		t.Errorf("HEALTHSYNC_MAPPING_FILE=%q is not the ConfigMap's healthsync.yaml mounted as a file", mappingFile)
	}
	// The JWT key file is inside the secret volume's mount.
	if jwt := str(env["HEALTHSYNC_SALESFORCE_JWT_KEY_FILE"], "value"); jwt != "" {
		ok := false
		for _, vm := range list(c, "volumeMounts") {
			if path(volumes[str(vm, "name")], "secret") != nil && strings.HasPrefix(jwt, str(vm, "mountPath")+"/") {
				ok = true
			}
		}
		if !ok {
			t.Errorf("HEALTHSYNC_SALESFORCE_JWT_KEY_FILE=%s is not in a mounted secret volume", jwt)
		}
	}

	// Probes: the paths are served by the status server, on the http port.
	probes := map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"}
	for probe, want := range probes {
		if got := str(c, probe+".httpGet.path"); got != want {
			t.Errorf("%s path = %q, want %q", probe, got, want)
		}
		if port := path(c, probe+".httpGet.port"); port != "http" && port != 8080 {
			t.Errorf("%s port = %v, want http (8080)", probe, port)
		}
	}
	checkProbePaths(t, []string{str(c, "livenessProbe.httpGet.path"), str(c, "readinessProbe.httpGet.path")})

	// Service: selects the pods and targets the http port.
	for k, v := range path(svc.doc, "spec.selector").(map[string]any) {
		if podLabels[k] != v {
			t.Errorf("Service selector %s=%v matches no pod label", k, v)
		}
	}
	for _, p := range list(svc.doc, "spec.ports") {
		tp := path(p, "targetPort")
		if tp != "http" && tp != 8080 {
			t.Errorf("Service targetPort %v is not the container's http port", tp)
		}
	}

	// Kustomization: its resources exist and do not apply the placeholder
	// Secret.
	for _, r := range flatStrings(list(kust.doc, "resources")) {
		if _, err := os.Stat(filepath.Join("kubernetes", r)); err != nil {
			t.Errorf("kustomization resource %s: %v", r, err)
		}
		if r == filepath.Base(secret.file) {
			t.Errorf("kustomization applies %s: its placeholders would overwrite real credentials", r)
		}
	}
}

func flatStrings(l []any) []string {
	out := make([]string, 0, len(l))
	for _, v := range l {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// checkProbePaths serves the status server with a token set, as in the
// cluster, and checks that the probes get 200 without credentials.
func checkProbePaths(t *testing.T, paths []string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DatabaseURL: "sqlite://" + filepath.Join(t.TempDir(), "hs.db"), EncryptionKey: storetest.Key}, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	srv, err := status.NewServer(status.Options{Store: st, Connection: "default", Token: "probe-test-token-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("probe GET %s without credentials = %d, want 200: %s", p, rec.Code, rec.Body.String())
		}
	}
}

// declaredEnv scans the Go sources for env:"HEALTHSYNC_…" struct tags.
func declaredEnv(t *testing.T) map[string]string {
	t.Helper()
	re := regexp.MustCompile(`env:"(HEALTHSYNC_[A-Z0-9_]+)`)
	out := map[string]string{}
	err := filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllSubmatch(data, -1) {
			out[string(m[1])] = p
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("found only %d env tags: is the scan looking at the right tree?", len(out))
	}
	return out
}

// envExampleNames reads deploy/.env.example: "NAME=" and "# NAME=" lines.
func envExampleNames(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open(".env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	re := regexp.MustCompile(`^#?\s*(HEALTHSYNC_[A-Z0-9_]+)=`)
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			if out[m[1]] {
				t.Errorf(".env.example lists %s twice", m[1])
			}
			out[m[1]] = true
		}
	}
	return out
}

func TestEnvExampleListsEveryVariable(t *testing.T) {
	declared := declaredEnv(t)
	listed := envExampleNames(t)
	for name, file := range declared {
		if !listed[name] {
			t.Errorf("%s (declared in %s) is missing from deploy/.env.example", name, file)
		}
	}
	for name := range listed {
		if _, ok := declared[name]; !ok {
			t.Errorf("deploy/.env.example lists %s, which no Go code reads", name)
		}
	}
}

// tokens splits a shell command line into words, honouring single and
// double quotes.
func tokens(s string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	in := false
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// makeBuild returns `make build`'s command with the Makefile's variables
// expanded; VERSION and the output path become placeholders.
func makeBuild(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"GO": "go", "BIN": "OUTPUT", "VERSION": "VERSION"}
	assign := regexp.MustCompile(`^([A-Z_]+)\s*[:?]?=\s*(.*)$`)
	var recipe string
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		if m := assign.FindStringSubmatch(l); m != nil && m[1] == "LDFLAGS" {
			vars["LDFLAGS"] = m[2]
		}
		if strings.HasPrefix(l, "build:") {
			for _, r := range lines[i+1:] {
				if strings.HasPrefix(r, "\t") && strings.Contains(r, " build ") {
					recipe = strings.TrimSpace(r)
					break
				}
			}
		}
	}
	if recipe == "" || vars["LDFLAGS"] == "" {
		t.Fatal("Makefile: no build recipe or LDFLAGS found")
	}
	ref := regexp.MustCompile(`\$\(([A-Z_]+)\)`)
	for range 3 { // LDFLAGS refers to VERSION
		recipe = ref.ReplaceAllStringFunc(recipe, func(s string) string { return vars[s[2:len(s)-1]] })
	}
	return tokens(recipe)
}

func TestDockerfileBuildsLikeMake(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var run, from, user, entry, cmd string
	var froms []string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "RUN ") && strings.Contains(l, "go build"):
			run = strings.TrimPrefix(l, "RUN ")
		case strings.HasPrefix(l, "FROM "):
			froms = append(froms, l)
			from = l
		case strings.HasPrefix(l, "USER "):
			user = strings.TrimPrefix(l, "USER ")
		case strings.HasPrefix(l, "ENTRYPOINT "):
			entry = strings.TrimPrefix(l, "ENTRYPOINT ")
		case strings.HasPrefix(l, "CMD "):
			cmd = strings.TrimPrefix(l, "CMD ")
		case strings.HasPrefix(l, "ENV ") || strings.HasPrefix(l, "ARG "):
			up := strings.ToUpper(l)
			for _, bad := range []string{"TOKEN", "SECRET", "PASSWORD", "ENCRYPTION_KEY", "DATABASE_URL"} {
				if strings.Contains(up, bad) {
					t.Errorf("Dockerfile bakes a secret-like setting into the image: %s", l)
				}
			}
		}
	}
	if run == "" {
		t.Fatal("Dockerfile has no RUN … go build")
	}
	docker := tokens(strings.NewReplacer("${VERSION}", "VERSION", "$VERSION", "VERSION").Replace(run))
	// The output path differs by design (bin/healthsync vs /healthsync).
	for i := range docker {
		if i > 0 && docker[i-1] == "-o" {
			docker[i] = "OUTPUT"
		}
	}
	if want := makeBuild(t); !slices.Equal(docker, want) {
		t.Errorf("Dockerfile build differs from make build:\n docker %q\n   make %q", docker, want)
	}
	if len(froms) < 2 || !strings.Contains(froms[0], "golang:") {
		t.Errorf("want a multi-stage build starting from a golang image, got %q", froms)
	}
	if !strings.Contains(from, "gcr.io/distroless/static") || !strings.Contains(from, "nonroot") {
		t.Errorf("final stage %q is not distroless static nonroot", from)
	}
	if user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("USER %q: the image must run as non-root", user)
	}
	if !strings.Contains(entry, "healthsync") {
		t.Errorf("ENTRYPOINT %s does not run healthsync", entry)
	}
	if cmd != `["run", "--listen", "0.0.0.0:8080"]` {
		t.Errorf("CMD %s, want [\"run\", \"--listen\", \"0.0.0.0:8080\"]", cmd)
	}
	// The builder's Go is at least go.mod's.
	mod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	argLine := regexp.MustCompile(`(?m)^ARG GO_VERSION=(\d+\.\d+)`).FindSubmatch(data)
	if goLine == nil || argLine == nil || string(goLine[1]) != string(argLine[1]) {
		t.Errorf("Dockerfile GO_VERSION %q does not match go.mod's go %q", argLine, goLine)
	}
}

func TestSystemdUnitHardened(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("systemd", "healthsync.service"))
	if err != nil {
		t.Fatal(err)
	}
	section := ""
	settings := map[string][]string{}
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, "[") {
			section = strings.Trim(l, "[]")
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Errorf("unit line %q is not Key=Value", l)
			continue
		}
		settings[section+"."+k] = append(settings[section+"."+k], v)
	}
	want := map[string]string{
		"Service.NoNewPrivileges": "yes",
		"Service.ProtectSystem":   "strict",
		"Service.ProtectHome":     "yes",
		"Service.PrivateTmp":      "yes",
		"Service.StateDirectory":  "healthsync",
		"Service.EnvironmentFile": "/etc/healthsync/healthsync.env",
		"Service.Restart":         "on-failure",
		"Service.DynamicUser":     "yes",
		"Install.WantedBy":        "multi-user.target",
	}
	for k, v := range want {
		if !slices.Contains(settings[k], v) {
			t.Errorf("%s = %v, want %s", k, settings[k], v)
		}
	}
	exec := strings.Join(settings["Service.ExecStart"], " ")
	if !strings.Contains(exec, "healthsync run --listen 127.0.0.1:") {
		t.Errorf("ExecStart %q should run the worker on loopback", exec)
	}
	names := envExampleNames(t)
	for _, e := range settings["Service.Environment"] {
		name, _, _ := strings.Cut(e, "=")
		if !names[name] {
			t.Errorf("unit sets %s, which deploy/.env.example does not list", name)
		}
	}
}
