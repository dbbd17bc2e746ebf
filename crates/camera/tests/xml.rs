//! The generated GenICam description loads in the genapi crate and agrees
//! with the feature table.

use camera::features::{generate_xml, table, FeatureTable, XmlIdentity};
use camera::model::Model;

fn xml_for(model: Model) -> (FeatureTable, String) {
    let spec = model.spec();
    let t = FeatureTable::new(table::features(&spec)).expect("a valid table");
    let id = XmlIdentity {
        model_name: spec.model_name.into(),
        vendor_name: "mvcam".into(),
        version: (1, 0, 0),
        product_guid: "00000000-0000-0000-0000-000000000001".into(),
        version_guid: "00000000-0000-0000-0000-000000000002".into(),
    };
    let xml = generate_xml(&t, &id);
    (t, xml)
}

#[test]
fn every_model_generates_a_description_genapi_loads() {
    for model in Model::ALL {
        let (t, xml) = xml_for(model);
        if let Ok(dir) = std::env::var("MVCAM_XML_OUT") {
            std::fs::write(format!("{dir}/{}.xml", model.name()), &xml).unwrap();
        }
        let map = genapi::NodeMap::from_xml(&xml).unwrap_or_else(|e| panic!("{model:?}: {e}"));
        for d in t.defs() {
            assert!(map.contains(d.name), "{} missing from the XML", d.name);
        }
    }
}
