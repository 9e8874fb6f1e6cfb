# Smoke-test results: one TSV line per check while running, rendered at the end as
# smoke.json and smoke.junit.xml. POSIX sh (busybox ash in the initramfs, dash/bash in Vagrant).
#   $RESULTS_TSV: runtime <TAB> check <TAB> pass|fail|skip <TAB> milliseconds <TAB> message

uptime_ms() { awk '{printf "%d", $1 * 1000}' /proc/uptime; }

# record RUNTIME CHECK STATUS START_MS MESSAGE
record() {
	_msg=$(printf '%s' "$5" | tr '\t\n\r' '   ' | cut -c1-600)
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$(($(uptime_ms) - $4))" "$_msg" >>"$RESULTS_TSV"
	case "$3" in
	pass) echo "PASS $1 $2" ;;
	skip) echo "SKIP: $1 $2: $_msg" ;;
	*) echo "FAIL $1 $2: $_msg" ;;
	esac
}

json_escape() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' | tr -d '\000-\037'; }
xml_escape() { printf '%s' "$1" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' | tr -d '\000-\037'; }

count_status() { awk -F '\t' -v s="$1" '$3 == s {n++} END {print n + 0}' "$RESULTS_TSV"; }

# render_results OUTDIR PROFILE
render_results() {
	_out=$1 _profile=$2
	touch "$RESULTS_TSV"
	{
		printf '{\n  "profile": "%s",\n  "kernel": "%s",\n' "$(json_escape "$_profile")" "$(uname -r)"
		printf '  "summary": {"pass": %s, "fail": %s, "skip": %s},\n  "checks": [' \
			"$(count_status pass)" "$(count_status fail)" "$(count_status skip)"
		_sep=""
		while IFS="$(printf '\t')" read -r rt check status ms msg; do
			printf '%s\n    {"runtime": "%s", "check": "%s", "status": "%s", "ms": %s, "message": "%s"}' \
				"$_sep" "$(json_escape "$rt")" "$(json_escape "$check")" "$status" "$ms" "$(json_escape "$msg")"
			_sep=","
		done <"$RESULTS_TSV"
		printf '\n  ]\n}\n'
	} >"$_out/smoke.json"
	{
		printf '<?xml version="1.0" encoding="UTF-8"?>\n'
		printf '<testsuites name="vm-tests smoke (%s)" tests="%s" failures="%s" skipped="%s">\n' \
			"$(xml_escape "$_profile")" "$(wc -l <"$RESULTS_TSV" | tr -d ' ')" "$(count_status fail)" "$(count_status skip)"
		for rt in $(cut -f1 "$RESULTS_TSV" | sort -u); do
			printf '  <testsuite name="smoke.%s.%s">\n' "$(xml_escape "$_profile")" "$(xml_escape "$rt")"
			while IFS="$(printf '\t')" read -r r check status ms msg; do
				[ "$r" = "$rt" ] || continue
				printf '    <testcase classname="smoke.%s.%s" name="%s" time="%s">' "$(xml_escape "$_profile")" \
					"$(xml_escape "$rt")" "$(xml_escape "$check")" "$(awk -v m="$ms" 'BEGIN {printf "%.3f", m / 1000}')"
				case "$status" in
				fail) printf '<failure message="%s"/>' "$(xml_escape "$msg")" ;;
				skip) printf '<skipped message="%s"/>' "$(xml_escape "$msg")" ;;
				esac
				printf '</testcase>\n'
			done <"$RESULTS_TSV"
			printf '  </testsuite>\n'
		done
		printf '</testsuites>\n'
	} >"$_out/smoke.junit.xml"
}
