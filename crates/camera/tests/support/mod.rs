//! A small host for the camera tests: the u3v host side and a genapi node
//! map on the camera's own GenICam file, over the in-process cable.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use camera::{Camera, CameraConfig, ClockMode, Model};
use genapi::{NodeMap, Port, PortError};
use u3v::bootstrap::sbrm;
use u3v::control_channel::{fetch_device_file, ChannelConfig, ControlChannel, ControlError};
use u3v::descriptor::DeviceDescriptors;
use u3v::event_channel::EventReceiver;
use u3v::stream_receiver::{FrameInfo, StreamReceiver};

/// The genapi port over the control channel.
pub struct ChannelPort(pub Arc<ControlChannel>);

impl Port for ChannelPort {
    fn read(&mut self, address: u64, buf: &mut [u8]) -> Result<(), PortError> {
        self.0
            .read(address, buf)
            .map_err(|e| port_error(address, buf.len(), e))
    }
    fn write(&mut self, address: u64, data: &[u8]) -> Result<(), PortError> {
        self.0
            .write(address, data)
            .map_err(|e| port_error(address, data.len(), e))
    }
}

fn port_error(address: u64, length: usize, e: ControlError) -> PortError {
    match e {
        ControlError::Disconnected => PortError::Disconnected,
        ControlError::Timeout { .. } => PortError::Timeout { address },
        e => PortError::Refused {
            address,
            length,
            reason: e.to_string(),
        },
    }
}

/// A host connected to a camera.
pub struct Host {
    pub camera: Camera,
    pub channel: Arc<ControlChannel>,
    pub map: NodeMap,
    pub stream: StreamReceiver,
    pub events: EventReceiver,
    pub sirm: u64,
    pub eirm: u64,
}

impl Host {
    /// Powers up a camera of `model` (as fast as possible unless said
    /// otherwise) and connects to it.
    pub fn new(model: Model) -> Host {
        let mut config = CameraConfig::new(model);
        config.clock = ClockMode::AsFastAsPossible;
        Host::with(config)
    }

    pub fn with(config: CameraConfig) -> Host {
        let camera = Camera::new(config).expect("camera powers up");
        Host::connect(camera)
    }

    pub fn connect(camera: Camera) -> Host {
        let link = camera.connect().expect("camera free");
        Host::over(camera, link)
    }

    /// A host on `link`, which leads to `camera` (in process or otherwise).
    pub fn over(camera: Camera, link: Arc<dyn u3v::UsbLink>) -> Host {
        let channel = Arc::new(
            ControlChannel::open(link.clone(), ChannelConfig::default()).expect("control channel"),
        );
        let info = channel.configure().expect("bootstrap");
        let file = fetch_device_file(&channel).expect("device file");
        assert!(file.is_zip && file.sha1_verified);
        let mut map = NodeMap::from_bytes(&file.bytes).expect("the camera's XML loads");
        map.connect("Device", Box::new(ChannelPort(channel.clone())))
            .expect("port");
        let sirm = channel
            .read_u64(info.sbrm_address + sbrm::SIRM_ADDRESS)
            .expect("SIRM address");
        let eirm = channel
            .read_u64(info.sbrm_address + sbrm::EIRM_ADDRESS)
            .expect("EIRM address");
        let stream = StreamReceiver::new(link.clone(), DeviceDescriptors::STREAM_IN_EP);
        let events = EventReceiver::new(link, DeviceDescriptors::EVENT_IN_EP);
        Host {
            camera,
            channel,
            map,
            stream,
            events,
            sirm,
            eirm,
        }
    }

    /// Programs the stream for the current PayloadSize and enables it.
    pub fn configure_stream(&mut self) {
        self.stream
            .configure(&self.channel, self.sirm, 1 << 20)
            .expect("stream configured");
    }

    /// Enables the event endpoint.
    pub fn configure_events(&mut self) {
        self.events
            .configure(&self.channel, self.eirm)
            .expect("events configured");
    }

    /// Receives one frame, or the stream error.
    pub fn try_frame(
        &mut self,
        timeout: Duration,
    ) -> Result<(FrameInfo, Vec<u8>), u3v::stream_receiver::StreamError> {
        let size = self.map.integer("PayloadSize").expect("PayloadSize") as usize;
        let mut buf = vec![0u8; size + 4096];
        let info = self.stream.receive(&mut buf, timeout)?;
        buf.truncate(info.valid_payload_size as usize);
        Ok((info, buf))
    }

    /// Receives one frame into a fresh buffer.
    pub fn frame(&mut self, timeout: Duration) -> (FrameInfo, Vec<u8>) {
        let size = self.map.integer("PayloadSize").expect("PayloadSize") as usize;
        let mut buf = vec![0u8; size + 4096];
        let info = self.stream.receive(&mut buf, timeout).expect("a frame");
        buf.truncate(info.valid_payload_size as usize);
        (info, buf)
    }
}
