#!/usr/bin/env bash
# Builds the libpcap that the wheels bundle: Debian's own libpcap source
# package (the release the system's libpcap comes from, with Debian's
# patches), configured without D-Bus, RDMA, Bluetooth, libnl, netmap, DPDK
# and the capture cards' SDKs, so it needs nothing but the C library. The
# system's libpcap (Debian's build) links D-Bus, and through it systemd,
# libgcrypt, libgpg-error, libzstd, liblz4, liblzma and libcap: a wheel that
# bundles it carries all nine.
#
#   scripts/build_libpcap.sh DIR     -> DIR/prefix/lib/libpcap.so.0.8 (and headers)
#
# $CC, when set, is the C compiler (scripts/wheels.sh sets a zig one for
# manylinux2014 wheels).
#
# The source comes through apt with a private configuration (DIR/apt): the
# system's own Debian sources, as deb-src entries, so nothing on the machine
# changes (no deb-src line is added to /etc/apt). Needs dpkg-dev (dpkg-source),
# flex, bison and a C compiler; `make wheel` installs them. A second run
# with the library in place does nothing. Prints the prefix on its last line.
set -euo pipefail
dir=$(mkdir -p "$1" && cd "$1" && pwd)
prefix=$dir/prefix
# What the lean build leaves out, each by the option that says so.
CONFIGURE_FLAGS=(--disable-dbus --disable-rdma --disable-bluetooth --without-libnl
                 --disable-netmap --without-dpdk --without-dag --without-septel
                 --without-snf --without-turbocap --disable-remote)
stamp="$prefix/.configured-with"
configured="CC=${CC:-cc} ${CONFIGURE_FLAGS[*]}"
if [ -f "$prefix/lib/libpcap.so" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$configured" ]; then
    echo "$prefix"
    exit 0
fi

# The deb-src twin of every Debian entry in the system's apt sources (both
# formats: one-line .list and deb822 .sources).
apt=$dir/apt
rm -rf "$apt" && mkdir -p "$apt/sources" "$apt/lists/partial" "$apt/cache/archives/partial" "$dir/src"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f"
done > "$apt/sources/src.list"
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && awk 'BEGIN { RS = ""; ORS = "\n\n" } /(^|\n)Types:[^\n]*deb/ {
        sub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src"); print }' "$f"
done > "$apt/sources/src.sources"
opts=(-o "Dir::Etc::SourceList=$apt/sources/src.list" -o "Dir::Etc::SourceParts=$apt/sources"
      -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o Debug::NoLocking=1
      -o APT::Sandbox::User=root -qq)
[ -s "$apt/sources/src.list" ] || opts[1]="Dir::Etc::SourceList=/dev/null"
apt-get "${opts[@]}" update
rm -rf "$dir/src" && mkdir -p "$dir/src"
(cd "$dir/src" && apt-get "${opts[@]}" source libpcap >/dev/null)
src=$(ls -d "$dir"/src/libpcap-*/ | head -n 1)

cd "$src"
# The build's output (libpcap's own compiler warnings included) goes to a
# log, shown only when a step fails.
log=$dir/build.log
quiet() { "$@" >"$log" 2>&1 || { cat "$log" >&2; echo "build_libpcap: $* failed" >&2; exit 1; }; }
# Debian's hardening flags; -g0: the wheel carries no debug information.
quiet env CFLAGS="-O2 -g0 -fstack-protector-strong -D_FORTIFY_SOURCE=2" LDFLAGS="-Wl,-z,relro,-z,now" \
    ./configure --prefix="$prefix" "${CONFIGURE_FLAGS[@]}"
quiet make -j2
rm -rf "$prefix" && quiet make install
strip --strip-unneeded "$prefix"/lib/libpcap.so.*.*
echo "$configured" > "$stamp"
echo "$prefix"
