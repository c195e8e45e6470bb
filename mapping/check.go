package mapping

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"healthsync/crm"
)

// Field name shapes: Salesforce API names, optionally through parent
// relationships (Owner.Email, Account.Owner.Email); HubSpot internal
// property names.
var (
	sfFieldName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,79}(\.[A-Za-z][A-Za-z0-9_]{0,79}){0,4}$`)
	hsFieldName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,99}$`)
	sfUserID    = regexp.MustCompile(`^005[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$`)
	hsUserID    = regexp.MustCompile(`^[0-9]{1,20}$`)
)

// Lifecycle stages, in order.
var lifecycleStages = []string{"Onboarding", "Adoption", "Growth", "Renewal", "Advocacy"}

// checkFile finds the problems the decoder cannot see: names that must
// exist, duplicate targets, rules that can never match.
func checkFile(d *decoder, f *File, sys crm.System) {
	if f.Version != 1 {
		d.errAt("version", "version: unsupported version %d: this healthsync reads version 1", f.Version)
	}
	checkObjects(d, f, sys)
	checkFieldNames(d, f, sys)
	checkClassify(d, f)
	checkOutputs(d, f, sys)
	checkTasks(d, f, sys)
	checkScoring(d, f)
}

func checkObjects(d *decoder, f *File, sys crm.System) {
	known := objectNames(sys)
	seen := map[string]bool{}
	for i, o := range f.CRM.Objects {
		p := fmt.Sprintf("crm.objects[%d]", i)
		if _, ok := lookupObject(sys, o); !ok {
			d.errAt(p, "crm.objects: unknown %s object %q: want one of %s%s", sys, o, strings.Join(known, ", "), didYouMean(o, known))
			continue
		}
		if seen[o] {
			d.errAt(p, "crm.objects: %q is listed twice", o)
		}
		seen[o] = true
	}
	acct := objectNames(sys)[0]
	if !seen[acct] && len(f.CRM.Objects) > 0 {
		d.errAt("crm.objects", "crm.objects: %s must be synced: every score belongs to an account", acct)
	}
	if len(f.CRM.Objects) == 0 {
		d.errAt("crm.objects", "crm.objects: the list is empty: leave the key out to sync every standard object")
	}
	var activity []string
	for _, o := range standardObjects[sys] {
		if o.entity == KindActivity {
			activity = append(activity, o.name)
		}
	}
	for obj := range f.Fields.Activity {
		if !slices.Contains(activity, obj) {
			d.errAtKey("fields.activity."+obj, "fields.activity: %q is not a %s activity object: want one of %s%s",
				obj, sys, strings.Join(activity, ", "), didYouMean(obj, activity))
		}
	}
}

// entityStructs returns each canonical field struct of f with its path.
func entityStructs(f *File) []struct {
	path string
	v    reflect.Value
} {
	out := []struct {
		path string
		v    reflect.Value
	}{
		{"fields.account", reflect.ValueOf(&f.Fields.Account).Elem()},
		{"fields.contact", reflect.ValueOf(&f.Fields.Contact).Elem()},
		{"fields.opportunity", reflect.ValueOf(&f.Fields.Opportunity).Elem()},
		{"fields.user", reflect.ValueOf(&f.Fields.User).Elem()},
	}
	for _, obj := range sortedKeys(f.Fields.Activity) {
		af := f.Fields.Activity[obj]
		out = append(out, struct {
			path string
			v    reflect.Value
		}{"fields.activity." + obj, reflect.ValueOf(&af).Elem()})
	}
	return out
}

func checkFieldNames(d *decoder, f *File, sys crm.System) {
	for _, e := range entityStructs(f) {
		for _, fi := range structFields(e.v.Type()).list {
			name := e.v.FieldByIndex(fi.index).String()
			p := e.path + "." + fi.name
			if name == "" {
				if fi.required && !(sys == crm.HubSpot && fi.name == "account_id") {
					d.errAt(p, "%s: required: name the CRM field it comes from", p)
				}
				continue
			}
			checkCRMFieldName(d, sys, p, name)
		}
	}
}

func checkCRMFieldName(d *decoder, sys crm.System, path, name string) {
	switch sys {
	case crm.Salesforce:
		if !sfFieldName.MatchString(name) {
			d.errAt(path, "%s: %q is not a Salesforce field API name (letters, digits and _, e.g. Adoption__c or Owner.Email)", path, name)
		}
	case crm.HubSpot:
		if !hsFieldName.MatchString(name) {
			d.errAt(path, "%s: %q is not a HubSpot internal property name (letters, digits and _, e.g. adoption_score)", path, name)
		}
	}
}

func checkMatch(d *decoder, path string, m Match) {
	if m.Field == "" {
		d.errAt(path, "%s: field is missing: say which activity field the rule tests (subject, type, subtype, status, direction or outcome)", path)
	}
	if len(m.Equals) == 0 && m.Matches.IsZero() {
		d.errAt(path, "%s: the rule has neither equals nor matches, so it would never apply", path)
	}
}

func checkClassify(d *decoder, f *File) {
	c := &f.Classify
	for i, k := range c.Activities.Kinds {
		p := fmt.Sprintf("classify.activities.kinds[%d]", i)
		checkMatch(d, p, k.Match)
		if k.Kind == "" {
			d.errAt(p, "%s: kind is missing: say which kind it gives (email, call, meeting, task, event or note)", p)
		}
	}
	for i, k := range c.Activities.EmailDirection {
		p := fmt.Sprintf("classify.activities.email_direction[%d]", i)
		checkMatch(d, p, k.Match)
		if k.Direction == "" {
			d.errAt(p, "%s: direction is missing: say inbound, outbound or unknown", p)
		}
	}
	for _, k := range sortedKeys(c.Activities.CallDirection) {
		v := c.Activities.CallDirection[k]
		if v != "inbound" && v != "outbound" {
			d.errAt("classify.activities.call_direction."+k, "classify.activities.call_direction.%s: invalid value %q: want inbound or outbound%s",
				k, v, didYouMean(v, []string{"inbound", "outbound"}))
		}
	}
	for _, k := range sortedKeys(c.Sentiment.Values) {
		if v := c.Sentiment.Values[k]; v < 0 || v > 100 {
			d.errAt("classify.sentiment.values."+k, "classify.sentiment.values.%s: %g is outside 0..100", k, v)
		}
	}
	if c.Sentiment.Scale.Min >= c.Sentiment.Scale.Max {
		d.errAt("classify.sentiment.scale", "classify.sentiment.scale: min (%g) must be below max (%g)", c.Sentiment.Scale.Min, c.Sentiment.Scale.Max)
	}
	for _, k := range sortedKeys(c.Lifecycle.Values) {
		v := c.Lifecycle.Values[k]
		if !slices.Contains(lifecycleStages, v) {
			d.errAt("classify.lifecycle.values."+k, "classify.lifecycle.values.%s: unknown stage %q: want %s%s",
				k, v, orList(lifecycleStages), didYouMean(v, lifecycleStages))
		}
	}
	for _, k := range sortedKeys(c.Segments.Values) {
		if strings.TrimSpace(c.Segments.Values[k]) == "" {
			d.errAt("classify.segments.values."+k, "classify.segments.values.%s: empty segment name", k)
		}
	}
}

// inputFields returns every CRM field the account object is read from,
// upper-cased for case-insensitive comparison (Salesforce API names are
// case-insensitive).
func inputFields(f *File) map[string]string {
	out := map[string]string{}
	v := reflect.ValueOf(f.Fields.Account)
	for _, fi := range structFields(v.Type()).list {
		if name := v.FieldByIndex(fi.index).String(); name != "" {
			out[strings.ToUpper(name)] = "fields.account." + fi.name
		}
	}
	return out
}

// taskInputFields are the task object's fields the mapping reads, by
// upper-cased name.
func taskInputFields(f *File, sys crm.System) map[string]string {
	out := map[string]string{}
	obj := taskObject(sys)
	af, ok := f.Fields.Activity[obj]
	if !ok {
		return out
	}
	v := reflect.ValueOf(af)
	for _, fi := range structFields(v.Type()).list {
		if name := v.FieldByIndex(fi.index).String(); name != "" {
			out[strings.ToUpper(name)] = "fields.activity." + obj + "." + fi.name
		}
	}
	return out
}

// hsStandardProperties are HubSpot-defined company and task properties a
// mapping might name by mistake: they hold the customer's data or the
// task's own text, never healthsync's results. Any property named hs_…
// is HubSpot's too. (check, plan and apply also ask the portal, which
// marks every HubSpot-defined property.)
var hsStandardProperties = map[string]bool{
	"name": true, "domain": true, "description": true, "phone": true, "website": true, "industry": true,
	"city": true, "state": true, "country": true, "address": true, "address2": true, "zip": true,
	"numberofemployees": true, "annualrevenue": true, "type": true, "lifecyclestage": true,
	"hubspot_owner_id": true, "about_us": true, "founded_year": true, "timezone": true,
	"linkedin_company_page": true, "twitterhandle": true, "facebook_company_page": true,
	"createdate": true, "closedate": true, "notes_last_updated": true, "num_associated_contacts": true,
}

// checkOwned refuses an output target that cannot be healthsync's own: a
// standard field, which holds the customer's data (Salesforce custom
// fields end in __c; HubSpot's own properties are listed or start hs_).
func checkOwned(d *decoder, sys crm.System, path, object, field string) {
	switch sys {
	case crm.Salesforce:
		if !strings.HasSuffix(strings.ToLower(field), "__c") {
			d.errAt(path, "%s: %s is a standard %s field: it holds the customer's data, and healthsync writes only to custom fields it owns; name a new field (such as Healthsync_…__c) and run `healthsync install` to create it", path, field, object)
		}
	case crm.HubSpot:
		if strings.HasPrefix(strings.ToLower(field), "hs_") || hsStandardProperties[strings.ToLower(field)] {
			d.errAt(path, "%s: %s is a HubSpot property of %s: it holds the customer's data, and healthsync writes only to properties it owns; name a new property (such as healthsync_…) and run `healthsync install` to create it", path, field, object)
		}
	}
}

func checkOutputs(d *decoder, f *File, sys crm.System) {
	inputs := inputFields(f)
	taskInputs := taskInputFields(f, sys)
	targets := map[string]string{} // upper-cased field → output path
	// claim gives field to the output at path p: no other output may
	// write it, and it must not be one the mapping reads.
	claim := func(p, field string) {
		key := strings.ToUpper(field)
		if prev, dup := targets[key]; dup {
			d.errAt(p, "%s: %s is already written by %s: every output needs its own field", p, field, prev)
		} else {
			targets[key] = p
		}
		if in, ok := inputs[key]; ok {
			d.errAt(p, "%s: %s is also read as %s: healthsync would overwrite its own input", p, field, in)
		}
	}
	for _, o := range outputList(f) {
		if o.Field == "" {
			continue
		}
		p := o.path
		checkCRMFieldName(d, sys, p, o.Field)
		if strings.Contains(o.Field, ".") {
			d.errAt(p, "%s: %q names a field of a related record; outputs must be fields of the record itself", p, o.Field)
			continue
		}
		checkOwned(d, sys, p, o.Object, o.Field)
		if o.Name == OutputTaskKey {
			if in, ok := taskInputs[strings.ToUpper(o.Field)]; ok {
				d.errAt(p, "%s: %s is also read as %s: the task key must have a field of its own", p, o.Field, in)
			}
		} else {
			claim(p, o.Field)
		}
		if o.metric {
			if _, ok := metricKind(o.Name); !ok {
				d.errAtKey(p, "outputs.metrics: unknown metric %q%s", o.Name, didYouMeanOrList(o.Name, metricNames()))
			} else if dc, ok := dayCounters[o.Name]; ok {
				fix := fmt.Sprintf("write the date instead (outputs.metrics.%s)", dc.from)
				if sys == crm.Salesforce {
					fix += fmt.Sprintf(" and move this field to outputs.counters.%s, which `healthsync install` creates as a formula field counting from it", o.Name)
				} else {
					fix += "; HubSpot cannot count days from today in a property, so filter views by the date instead (e.g. \"is less than 90 days from now\")"
				}
				d.errAt(p, "%s: %s changes every day by itself, so writing it would rewrite every account daily; %s", p, o.Name, fix)
			} else if why, ok := movingMetrics[o.Name]; ok {
				d.errAt(p, "%s: %s is not written: %s, so every account would be rewritten daily; remove it", p, o.Name, why)
			}
		}
	}
	for _, c := range counterList(f) {
		if c.Field == "" {
			continue
		}
		p := c.path
		if sys != crm.Salesforce {
			d.errAt(p, "outputs.counters: HubSpot cannot count days from today in a property; write the date (outputs.metrics.%s) and filter views by it instead", dayCounters[c.Name].from)
			break
		}
		if _, ok := dayCounters[c.Name]; !ok {
			d.errAtKey(p, "outputs.counters: %q is not a day count; counters are %s", c.Name, strings.Join(sortedKeys(dayCounters), ", "))
			continue
		}
		checkCRMFieldName(d, sys, p, c.Field)
		checkOwned(d, sys, p, c.Object, c.Field)
		claim(p, c.Field)
		if c.FromField == "" {
			d.errAt(p, "%s: counts from %s, which is not written: add outputs.metrics.%s (a date field such as Healthsync_%s__c)", p, c.From, c.From, metricLabelUnderscore(c.From))
		}
	}
	for i, name := range f.Outputs.OwnedFields {
		p := fmt.Sprintf("outputs.owned_fields[%d]", i)
		checkCRMFieldName(d, sys, p, name)
		if _, written := targets[strings.ToUpper(name)]; !written && !strings.EqualFold(name, f.Outputs.TaskKey) {
			d.errAt(p, "%s: %s is not an output: list only fields named under outputs", p, name)
		}
	}
	if f.Outputs.ScoreDeadBand != nil && (*f.Outputs.ScoreDeadBand < 0 || *f.Outputs.ScoreDeadBand > 50) {
		d.errAt("outputs.score_dead_band", "outputs.score_dead_band: %g points: give a number from 0 (write every change) to 50", *f.Outputs.ScoreDeadBand)
	}
	if f.Outputs.Score == "" {
		d.errAt("outputs.score", "outputs.score: required: name the field the health score is written to")
	}
}

// metricLabelUnderscore turns next_renewal_date into Next_Renewal_Date.
func metricLabelUnderscore(name string) string {
	return strings.ReplaceAll(metricLabel(name), " ", "_")
}

func checkTasks(d *decoder, f *File, sys crm.System) {
	t := &f.Tasks
	for _, name := range sortedKeys(t.Flags) {
		if days := t.Flags[name].RenewalWithinDays; days != nil && *days < 0 {
			d.errAt("tasks.flags."+name+".renewal_within_days", "tasks.flags.%s.renewal_within_days: %d: give the days before the renewal from which the task is created (0 for always)", name, *days)
		}
	}
	if b := t.DailyBudgetPerOwner; b != nil && *b < 0 {
		d.errAt("tasks.daily_budget_per_owner", "tasks.daily_budget_per_owner: %d: give the most new tasks one owner gets per day (0 for no limit)", *b)
	}
	if !t.Disabled && f.Outputs.TaskKey == "" {
		d.errAt("outputs.task_key", "outputs.task_key: required while tasks are enabled: the key stops a task being created twice (or set tasks.disabled: true)")
	}
	if t.Snooze.Field != "" {
		checkCRMFieldName(d, sys, "tasks.snooze.field", t.Snooze.Field)
	}
	flags := knownFlags(f)
	for _, name := range sortedKeys(t.Flags) {
		if !slices.Contains(flags, name) {
			d.errAtKey("tasks.flags."+name, "tasks.flags: unknown flag %q: want one of %s (or define it under scoring.custom_flags)%s",
				name, strings.Join(flags, ", "), didYouMean(name, flags))
		}
	}
	if t.Disabled {
		return
	}
	for _, name := range flags {
		tt := t.Flags[name]
		task, taskPath, enabled := flagTask(f, name)
		if !enabled || tt.Disabled {
			continue
		}
		p := "tasks.flags." + name
		switch {
		case tt.Owner == "" || tt.Owner == OwnerAccountOwner:
		case sys == crm.Salesforce && !sfUserID.MatchString(tt.Owner):
			d.errAt(p+".owner", "%s.owner: %q is neither account_owner nor a Salesforce user id (005...)", p, tt.Owner)
		case sys == crm.HubSpot && !hsUserID.MatchString(tt.Owner):
			d.errAt(p+".owner", "%s.owner: %q is neither account_owner nor a HubSpot owner id (digits)", p, tt.Owner)
		}
		if _, err := parseTaskTemplate(name+".description", tt.Description); err != nil {
			d.errAt(p+".description", "%s.description: %v", p, err)
		}
		if _, err := parseTaskTemplate(name+".subject", task.Subject); err != nil {
			d.errAt(taskPath+".subject", "%s.subject: %v", taskPath, err)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
