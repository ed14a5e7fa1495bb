#!/bin/sh
# Build the qemu-img layer into $1 (see Makefile): /opt/qemu-img/{bin/qemu-img, libexec/qemu-img, lib/*}.
set -eu
out=${1:?usage: build_layer.sh ARTIFACTS_DIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root" "$work/debs"

if [ -n "${PACKAGES_DIR:-}" ]; then
    cp "$PACKAGES_DIR"/*.deb "$work/debs/"
else
    command -v apt-get >/dev/null || { echo "error: the qemu-img layer is built from Debian/Ubuntu packages: apt-get is missing (or give PACKAGES_DIR)" >&2; exit 1; }
    # qemu-utils and everything it depends on (recursively), as this distribution packages it
    packages=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
        --no-replaces --no-enhances --no-pre-depends qemu-utils | grep -v '^ ' | grep -v '^<' | sort -u)
    (cd "$work/debs" && apt-get download $packages >/dev/null) || {
        echo "error: apt-get download of qemu-utils and its libraries failed (run apt-get update?)" >&2; exit 1; }
fi
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done

binary=$root/usr/bin/qemu-img
[ -x "$binary" ] || { echo "error: no usr/bin/qemu-img in the packages" >&2; exit 1; }
loader=$(ls "$root"/lib64/ld-linux-x86-64.so.2 "$root"/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 2>/dev/null | head -n1)
[ -n "$loader" ] || { echo "error: no ld-linux-x86-64.so.2 (libc6) in the packages" >&2; exit 1; }
libdirs=$root/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu

layer=$out/qemu-img
mkdir -p "$layer/bin" "$layer/libexec" "$layer/lib"
cp "$binary" "$layer/libexec/qemu-img"
cp -L "$loader" "$layer/lib/ld-linux-x86-64.so.2"
# every library the binary needs, resolved by the packaged loader inside the unpacked packages only
"$loader" --library-path "$libdirs" --list "$binary" | awk '/=>/ { print $3 }' | while read -r lib; do
    case "$lib" in "$root"/*) cp -L "$lib" "$layer/lib/" ;; *) echo "error: $lib is not from the packages" >&2; exit 1 ;; esac
done
cat > "$layer/bin/qemu-img" <<'WRAPPER'
#!/bin/sh
# qemu-img with the glibc and libraries it was packaged with (the layer's own loader), nothing from the host
here=$(dirname "$(readlink -f "$0")")/..
exec "$here/lib/ld-linux-x86-64.so.2" --library-path "$here/lib" "$here/libexec/qemu-img" "$@"
WRAPPER
chmod 755 "$layer/bin/qemu-img" "$layer/libexec/qemu-img" "$layer/lib/ld-linux-x86-64.so.2"
"$layer/bin/qemu-img" --version | head -n1
du -sh "$layer" | awk '{ print "qemu-img layer: " $1 }'
