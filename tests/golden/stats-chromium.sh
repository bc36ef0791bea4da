#!/bin/bash
# vigia stats (issue 6), acceptance 2: the day page in headless Chromium
# (Debian's chromium, flags for a closed network).  Every image loads
# (naturalWidth > 0), no console message, the page and the index fit a
# 390 px phone viewport (scrollWidth <= 390), every relative link and
# image resolves to a file of the site.  The screenshot is kept as
# tests/artifacts/stats-day-390.png.  Skipped (77) without chromium.
. "$(dirname "$0")/lib.sh"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "SKIP: no chromium"; exit 77; }
ART="$S/tests/artifacts"
mkdir -p "$ART"

mkdir -p "$T/arch/s1/2026/11/01"
"$GEN" --packets 60000 --seed 31 --quiet --out "$T/arch/s1/2026/11/01/a.pcap"
"$VIGIA" ingest --quiet --archive "$T/arch" --db "$T/a.db" "${RIR_ARGS[@]}"
"$VIGIA" stats --quiet --db "$T/a.db" --out "$T/site"
PAGE="$T/site/day/2026-11-01/index.html"
[ -s "$PAGE" ] || { fail "no day page"; finish; }

chrome() { # flags for a closed network; a new profile each time
	local prof
	prof=$(mktemp -d "$T/prof.XXXX")
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-default-apps --disable-extensions --no-default-browser-check \
		--user-data-dir="$prof" "$@"
}

# The harness is the test's, not the site's: it loads a page in a 390 px
# iframe and writes what it measured into its own DOM, which --dump-dom
# prints once every frame has loaded.
harness() { # page -> results
	cat >"$T/h.html" <<HTML
<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe id="f" src="file://$1" style="width:390px;height:844px;border:0"></iframe>
<pre id="out">not run</pre>
<script>
window.addEventListener('load', function () {
  var out = [];
  try {
    var d = document.getElementById('f').contentDocument;
    var im = d.images, broken = 0;
    for (var i = 0; i < im.length; i++)
      if (!(im[i].complete && im[i].naturalWidth > 0)) { broken++; out.push('BROKEN ' + im[i].getAttribute('src')); }
    out.push('IMAGES ' + im.length + ' ' + broken);
    out.push('SCROLLWIDTH ' + d.documentElement.scrollWidth);
    var all = d.querySelectorAll('body *'), wide = 0;
    for (var j = 0; j < all.length; j++)
      if (all[j].getBoundingClientRect().right > 391 && !all[j].closest('.tw')) wide++;
    out.push('WIDE ' + wide);
  } catch (e) { out.push('HARNESS-ERROR ' + e); }
  document.getElementById('out').textContent = out.join('\n');
});
</script></body></html>
HTML
	chrome --allow-file-access-from-files --virtual-time-budget=15000 --dump-dom "file://$T/h.html" \
		2>/dev/null | sed -n '/<pre id="out">/,/<\/pre>/p'
}

r=$(harness "$PAGE")
echo "$r" | sed 's/^/  day page: /'
grep -q '^<pre id="out">IMAGES 12 0$\|IMAGES 12 0' <<<"$r" && ok "all 12 images load (naturalWidth > 0)" ||
	fail "images: $(grep -E 'IMAGES|BROKEN|ERROR' <<<"$r")"
sw=$(grep -o 'SCROLLWIDTH [0-9]*' <<<"$r" | cut -d' ' -f2)
[ -n "$sw" ] && [ "$sw" -le 390 ] && ok "the day page fits 390 px (scrollWidth $sw)" ||
	fail "day page scrollWidth '$sw' > 390"
grep -q 'WIDE 0' <<<"$r" && ok "no element sticks out of the phone viewport" || fail "wide elements: $r"
r=$(harness "$T/site/index.html")
sw=$(grep -o 'SCROLLWIDTH [0-9]*' <<<"$r" | cut -d' ' -f2)
[ -n "$sw" ] && [ "$sw" -le 390 ] && ok "the index fits 390 px (scrollWidth $sw)" ||
	fail "index scrollWidth '$sw'"

# Console messages are logged as "CONSOLE" lines.  First show that a page
# with errors is caught, then that ours has none.
printf '<!DOCTYPE html><html><body><script>console.error("x"); nope();</script></body></html>' \
	>"$T/bad.html"
chrome --enable-logging=stderr --v=0 --dump-dom "file://$T/bad.html" >/dev/null 2>"$T/bad.log" || true
grep -q 'CONSOLE.*Uncaught' "$T/bad.log" && ok "console errors are detected (control page)" ||
	fail "the console check sees nothing on a bad page"
for p in "$PAGE" "$T/site/index.html" "$T/site/week/2026-W44/index.html"; do
	chrome --enable-logging=stderr --v=0 --dump-dom "file://$p" >"$T/dom.html" 2>"$T/con.log" || true
	if grep -q 'CONSOLE\|Uncaught' "$T/con.log"; then
		fail "console messages on ${p#$T/}: $(grep 'CONSOLE' "$T/con.log" | head -3)"
	else
		ok "no console message on ${p#$T/}"
	fi
	grep -q '</html>' "$T/dom.html" || fail "${p#$T/} did not render"
done

# Every relative href/src of every page resolves inside the site.
missing=0
while IFS= read -r page; do
	dir=$(dirname "$page")
	for u in $(grep -o '\(href\|src\)="[^"#]*"' "$page" | sed 's/^[a-z]*="//; s/"$//'); do
		case $u in
		*://*|//*) fail "${page#$T/}: absolute URL $u"; missing=$((missing + 1)); continue ;;
		esac
		[ -e "$dir/$u" ] || { fail "${page#$T/}: broken link $u"; missing=$((missing + 1)); }
	done
done < <(find "$T/site" -name index.html)
[ $missing = 0 ] && ok "every link and image of every page resolves to a file" || true

# The screenshot, kept as an artefact.
rm -f "$ART/stats-day-390.png"
chrome --hide-scrollbars --window-size=390,2400 --screenshot="$ART/stats-day-390.png" "file://$PAGE" \
	>/dev/null 2>&1 || true
[ -s "$ART/stats-day-390.png" ] && ok "screenshot kept: tests/artifacts/stats-day-390.png" ||
	fail "no screenshot"
chrome --hide-scrollbars --window-size=1200,2400 --screenshot="$ART/stats-day-1200.png" "file://$PAGE" \
	>/dev/null 2>&1 || true
finish
