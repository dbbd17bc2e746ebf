"""Harvesters (a GenTL consumer) against target/release/mvcam.cti.

Run from the workspace root after scripts/build-cti.sh:
    python3 -m pytest -q crates/gentl/tests/python/test_harvesters.py
The cti lists the built-in virtual camera (MVCAM_VIRTUAL, default one
colour 5 MP camera).
"""

import os
import time
from pathlib import Path

import numpy as np
import pytest
from harvesters.core import Harvester

ROOT = Path(__file__).resolve().parents[4]
CTI = Path(os.environ.get("MVCAM_CTI", ROOT / "target" / "release" / "mvcam.cti"))

if not CTI.exists():
    pytest.skip(f"{CTI} not built (scripts/build-cti.sh)", allow_module_level=True)


@pytest.fixture
def harvester():
    os.environ.setdefault("MVCAM_VIRTUAL", "1")
    h = Harvester()
    h.add_file(str(CTI))
    h.update()
    yield h
    h.reset()


@pytest.fixture
def acquirer(harvester):
    ia = harvester.create(0)
    yield ia
    ia.destroy()


def configure(nm, width=640, height=480, pixel_format="Mono8", exposure=2000.0,
              image="GreyHorizontalRamp"):
    nm.Width.value = width
    nm.Height.value = height
    nm.OffsetX.value = 0
    nm.OffsetY.value = 0
    nm.PixelFormat.value = pixel_format
    nm.ExposureTime.value = exposure
    nm.TestImageSelector.value = image


def ramp(width, height):
    """GreyHorizontalRamp at offset 0: every row is X mod 256."""
    return np.tile((np.arange(width) % 256).astype(np.uint8), (height, 1))


def test_lists_the_virtual_camera(harvester):
    infos = harvester.device_info_list
    assert len(infos) >= 1
    cam = infos[0]
    assert cam.vendor == "mvcam"
    assert cam.model.startswith("MV-U3-")
    assert cam.tl_type == "U3V"
    assert cam.id_ == "virtual://0"
    assert cam.serial_number


def test_module_node_maps_load_and_report_the_standard_features(acquirer):
    ia = acquirer
    assert ia.system.node_map.TLType.value == "U3V"
    assert ia.system.node_map.TLVendorName.value == "mvcam"
    assert ia.interface.node_map.InterfaceID.value == "mvcam"
    assert ia.interface.node_map.DeviceID.value == "virtual://0"
    dev = ia.device.node_map
    assert dev.DeviceID.value == "virtual://0"
    assert dev.DeviceVendorName.value == "mvcam"
    assert dev.DeviceModelName.value == ia.remote_device.node_map.DeviceModelName.value
    assert dev.DeviceAccessStatus.value == "OpenReadWrite"
    ds = ia.data_streams[0].node_map
    assert ds.StreamID.value == "Stream0"
    assert ds.StreamBufferHandlingMode.value == "OldestFirst"
    configure(ia.remote_device.node_map)
    ia.num_buffers = 4
    ia.start()
    try:
        assert ds.StreamAnnouncedBufferCount.value == 4
        assert ds.StreamIsGrabbing.value == 1
        assert ds.PayloadSize.value == 640 * 480
    finally:
        ia.stop()


def test_features_written_through_the_remote_node_map_reach_the_camera(acquirer):
    nm = acquirer.remote_device.node_map
    configure(nm, width=800, height=600, exposure=3500.0)
    assert nm.Width.value == 800
    assert nm.Height.value == 600
    assert nm.PixelFormat.value == "Mono8"
    assert abs(nm.ExposureTime.value - 3500.0) < 1.0
    assert nm.PayloadSize.value == 800 * 600


def test_acquires_100_frames_of_the_selected_test_image(acquirer):
    ia = acquirer
    nm = ia.remote_device.node_map
    configure(nm, width=640, height=480)
    expected = ramp(640, 480)
    ia.start()
    last_id = None
    try:
        for _ in range(100):
            with ia.fetch(timeout=5) as buf:
                c = buf.payload.components[0]
                assert (c.width, c.height, c.data_format) == (640, 480, "Mono8")
                assert c.x_padding == 0
                image = c.data.reshape(c.height, c.width)
                assert np.array_equal(image, expected)
                # Buffer information agrees with the frame.
                assert buf.module.size_filled >= 640 * 480
                assert buf.module.pixel_format == 0x01080001  # PFNC Mono8
                assert buf.module.tl_type == "U3V"
                assert buf.module.is_complete()
                frame_id = buf.module.frame_id
                if last_id is not None:
                    assert frame_id > last_id
                last_id = frame_id
    finally:
        ia.stop()
    assert ia.data_streams[0].node_map.StreamDeliveredFrameCount.value >= 100


def test_multiframe_delivers_exactly_the_frame_count(acquirer):
    ia = acquirer
    nm = ia.remote_device.node_map
    configure(nm, width=320, height=240)
    nm.AcquisitionMode.value = "MultiFrame"
    nm.AcquisitionFrameCount.value = 5
    ia.start()
    try:
        for _ in range(5):
            with ia.fetch(timeout=5) as buf:
                assert buf.payload.components[0].width == 320
        assert ia.try_fetch(timeout=1.0) is None
    finally:
        ia.stop()


def test_camera_events_reach_the_remote_device_event_manager(acquirer):
    """Harvesters registers EVENT_REMOTE_DEVICE through the reference
    GenTL wrapper; ExposureEnd events arrive with the camera's event id and
    their data (the frame id, little-endian)."""
    ia = acquirer
    managers = [m for m in ia._module_event_monitor_dict.values()
                if type(m).__name__ == "EventManagerRemoteDevice"]
    assert len(managers) == 1
    events = managers[0]
    nm = ia.remote_device.node_map
    configure(nm, width=256, height=16)
    nm.EventSelector.value = "ExposureEnd"
    nm.EventNotification.value = "On"
    ia.start()
    try:
        for _ in range(3):
            with ia.fetch(timeout=5):
                pass
    finally:
        ia.stop()
    frame_ids = []
    for _ in range(3):
        events.update_event_data(2000)
        assert events.event_id == "9001"
        frame_ids.append(int.from_bytes(bytes(events.optional_data), "little"))
    assert frame_ids == sorted(frame_ids) and len(set(frame_ids)) == 3, frame_ids


def test_software_trigger_delivers_one_frame_per_trigger(acquirer):
    ia = acquirer
    nm = ia.remote_device.node_map
    configure(nm, width=320, height=240)
    nm.TriggerSelector.value = "FrameStart"
    nm.TriggerMode.value = "On"
    nm.TriggerSource.value = "Software"
    ia.start()
    try:
        assert ia.try_fetch(timeout=0.5) is None
        for _ in range(3):
            nm.TriggerSoftware.execute()
            with ia.fetch(timeout=5) as buf:
                assert buf.payload.components[0].height == 240
            assert ia.try_fetch(timeout=0.3) is None
    finally:
        ia.stop()
        nm.TriggerMode.value = "Off"


def test_opening_a_device_twice_is_refused(harvester, acquirer):
    with pytest.raises(Exception) as err:
        harvester.create(0)
    assert "in use" in str(err.value).lower() or "-1004" in str(err.value)


def test_stop_and_restart(acquirer):
    ia = acquirer
    nm = ia.remote_device.node_map
    configure(nm, width=320, height=240)
    for width in (320, 256):
        nm.Width.value = width
        ia.start()
        try:
            for _ in range(3):
                with ia.fetch(timeout=5) as buf:
                    c = buf.payload.components[0]
                    assert c.width == width
                    assert np.array_equal(c.data.reshape(c.height, c.width), ramp(width, 240))
        finally:
            ia.stop()


def test_chunk_data_reaches_the_chunk_nodes(acquirer):
    """The payload goes to the consumer whole: Harvesters' U3V chunk
    adapter (GenApi's) finds the FrameID chunk, and DSGetBufferChunkData
    lists the image chunk and the FrameID chunk."""
    ia = acquirer
    nm = ia.remote_device.node_map
    configure(nm, width=320, height=240)
    nm.ChunkModeActive.value = True
    nm.ChunkSelector.value = "FrameID"
    nm.ChunkEnable.value = True
    ia.start()
    try:
        for _ in range(3):
            with ia.fetch(timeout=5) as buf:
                m = buf.module
                assert m.is_containing_chunk_data()
                assert buf.payload.components[0].width == 320
                assert nm.ChunkFrameID.value == m.frame_id
                assert m.num_chunks == 2
                tail = bytes(m.raw_buffer[m.size_filled - 16:m.size_filled])
                assert int.from_bytes(tail[:8], "little") == m.frame_id
                assert int.from_bytes(tail[8:12], "little") == 0x0A000002
    finally:
        ia.stop()
        nm.ChunkModeActive.value = False


def test_frame_rate_at_full_resolution_mono8(acquirer):
    """Reports Harvesters' frame rate at 2448 x 2048 Mono8 next to the
    camera's ResultingFrameRate (the link-limited rate)."""
    ia = acquirer
    nm = ia.remote_device.node_map
    configure(nm, width=2448, height=2048, exposure=1000.0)
    camera_rate = nm.ResultingFrameRate.value
    ia.num_buffers = 8
    ia.start()
    try:
        for _ in range(5):
            with ia.fetch(timeout=5):
                pass
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 3.0:
            with ia.fetch(timeout=5) as buf:
                assert buf.payload.components[0].width == 2448
            n += 1
        rate = n / (time.perf_counter() - t0)
    finally:
        ia.stop()
    print(f"\nHarvesters with mvcam.cti, 2448x2048 Mono8: {rate:.1f} fps "
          f"(camera ResultingFrameRate {camera_rate:.1f} fps)")
    assert n > 0


def test_every_module_description_loads_in_the_reference_genapi():
    """The producer's own XML of every module (System, Interface, Device,
    DataStream, Buffer), read through its port URL, loads in the reference
    GenApi and names the standard features."""
    import ctypes
    from genicam.genapi import NodeMap

    lib = ctypes.CDLL(str(CTI))
    vp, sz = ctypes.c_void_p, ctypes.c_size_t
    P = ctypes.POINTER
    lib.TLOpen.argtypes = [P(vp)]
    lib.TLClose.argtypes = [vp]
    lib.TLOpenInterface.argtypes = [vp, ctypes.c_char_p, P(vp)]
    lib.IFUpdateDeviceList.argtypes = [vp, P(ctypes.c_uint8), ctypes.c_uint64]
    lib.IFOpenDevice.argtypes = [vp, ctypes.c_char_p, ctypes.c_int32, P(vp)]
    lib.DevOpenDataStream.argtypes = [vp, ctypes.c_char_p, P(vp)]
    lib.DSAllocAndAnnounceBuffer.argtypes = [vp, sz, vp, P(vp)]
    lib.GCGetPortURLInfo.argtypes = [vp, ctypes.c_uint32, ctypes.c_int32, P(ctypes.c_int32), vp, P(sz)]
    lib.GCReadPort.argtypes = [vp, ctypes.c_uint64, vp, P(sz)]

    def check(code):
        assert code == 0, code

    def url_of(h):
        size = sz(512)
        buf = ctypes.create_string_buffer(512)
        check(lib.GCGetPortURLInfo(h, 0, 0, None, buf, ctypes.byref(size)))
        return buf.value.decode()

    def xml_of(h):
        _, address, length = url_of(h)[len("local:"):].split(";")
        n = int(length, 16)
        buf = ctypes.create_string_buffer(n)
        size = sz(n)
        check(lib.GCReadPort(h, int(address, 16), buf, ctypes.byref(size)))
        return buf.raw.decode()

    check(lib.GCInitLib())
    try:
        tl, iface, dev, ds, buf = vp(), vp(), vp(), vp(), vp()
        check(lib.TLOpen(ctypes.byref(tl)))
        check(lib.TLOpenInterface(tl, b"mvcam", ctypes.byref(iface)))
        check(lib.IFUpdateDeviceList(iface, None, 1000))
        check(lib.IFOpenDevice(iface, b"virtual://0", 4, ctypes.byref(dev)))
        check(lib.DevOpenDataStream(dev, b"Stream0", ctypes.byref(ds)))
        check(lib.DSAllocAndAnnounceBuffer(ds, 4096, None, ctypes.byref(buf)))
        expected = [
            (tl, ["TLVendorName", "TLModelName", "TLID", "TLVersion", "TLType"]),
            (iface, ["InterfaceID", "DeviceSelector", "DeviceID", "DeviceVendorName",
                    "DeviceModelName", "DeviceSerialNumber", "DeviceAccessStatus"]),
            (dev, ["DeviceID", "DeviceVendorName", "DeviceModelName",
                  "DeviceSerialNumber", "DeviceAccessStatus"]),
            (ds, ["StreamID", "StreamAnnouncedBufferCount", "StreamAcquisitionModeSelector",
                 "StreamBufferHandlingMode", "PayloadSize"]),
            (buf, ["BufferSize", "BufferFrameID"]),
        ]
        for handle, features in expected:
            nm = NodeMap()
            nm.load_xml_from_string(xml_of(handle))
            names = {n.node.name for n in nm.nodes}
            missing = [f for f in features if f not in names]
            assert not missing, (url_of(handle), missing)
    finally:
        check(lib.GCCloseLib())
