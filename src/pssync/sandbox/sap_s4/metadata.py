"""The `$metadata` document (EDMX 1.0 / CSDL for OData v2) rendered from the declarations.

pyodata builds its whole client model from this document, so it carries what SAP's does: keys,
Edm types with MaxLength / Precision / Scale, Nullable, and the `sap:` annotations (label,
creatable, updatable, display-format, unit, semantics) on properties and entity sets, the
navigation properties with their associations (what a deep insert follows), and
``ConcurrencyMode="Fixed"`` on the property that is the entity's ETag.
"""

from __future__ import annotations

from html import escape

from pssync.sandbox.sap_s4.schema import EntitySet, Nav, Prop, Service

_HEAD = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx"'
    ' xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"'
    ' xmlns:sap="http://www.sap.com/Protocols/SAPData">\n'
    ' <edmx:DataServices m:DataServiceVersion="2.0">\n'
)


def _attrs(pairs: list[tuple[str, object]]) -> str:
    out = []
    for name, value in pairs:
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        out.append(f'{name}="{escape(str(value), quote=True)}"')
    return " ".join(out)


def _bool_flag(value: bool) -> str | None:
    """SAP only writes a flag when it differs from the default (true)."""
    return None if value else "false"


def _property(prop: Prop, etag: bool = False) -> str:
    attrs = _attrs(
        [
            ("Name", prop.name),
            ("Type", prop.edm),
            ("Nullable", None if prop.nullable else "false"),
            ("ConcurrencyMode", "Fixed" if etag else None),
            ("MaxLength", prop.max_length),
            ("Precision", prop.precision),
            ("Scale", prop.scale),
            ("sap:display-format", prop.display_format),
            ("sap:unit", prop.unit),
            ("sap:semantics", prop.semantics),
            ("sap:label", prop.label),
            ("sap:creatable", _bool_flag(prop.creatable)),
            ("sap:updatable", _bool_flag(prop.updatable)),
        ]
    )
    return f"    <Property {attrs}/>\n"


def _entity_type(service: Service, entity_set: EntitySet) -> str:
    keys = "".join(f'<PropertyRef Name="{k}"/>' for k in entity_set.keys)
    head = _attrs(
        [
            ("Name", entity_set.type_name),
            ("sap:label", entity_set.label),
            ("sap:content-version", "1"),
        ]
    )
    props = "".join(_property(p, p.name == entity_set.etag) for p in entity_set.props)
    navs = "".join(
        f'    <NavigationProperty Name="{n.name}" Relationship="{service.name}.{a}"'
        f' FromRole="FromRole_{a}" ToRole="ToRole_{a}"/>\n'
        for n in entity_set.navs
        if (a := _assoc(entity_set, n))
    )
    return f"   <EntityType {head}>\n    <Key>{keys}</Key>\n{props}{navs}   </EntityType>\n"


def _assoc(entity_set: EntitySet, nav: Nav) -> str:
    return f"assoc_{entity_set.name}_{nav.name}"


def _associations(service: Service) -> tuple[str, str]:
    """(Association elements, AssociationSet elements) for every navigation property."""
    types, sets = [], []
    for source in service.entity_sets:
        for nav in source.navs:
            name = _assoc(source, nav)
            target = service.entity_set(nav.target)
            assert target is not None, nav.target
            many = "*" if nav.many else "0..1"
            types.append(
                f'   <Association Name="{name}" sap:content-version="1">'
                f'<End Type="{service.name}.{source.type_name}" Multiplicity="1"'
                f' Role="FromRole_{name}"/><End Type="{service.name}.{target.type_name}"'
                f' Multiplicity="{many}" Role="ToRole_{name}"/></Association>\n'
            )
            sets.append(
                f'    <AssociationSet Name="{name}_set" Association="{service.name}.{name}"'
                ' sap:creatable="false" sap:updatable="false" sap:deletable="false"'
                f' sap:content-version="1"><End EntitySet="{source.name}" Role="FromRole_{name}"/>'
                f'<End EntitySet="{target.name}" Role="ToRole_{name}"/></AssociationSet>\n'
            )
    return "".join(types), "".join(sets)


def _entity_set(service: Service, entity_set: EntitySet) -> str:
    attrs = _attrs(
        [
            ("Name", entity_set.name),
            ("EntityType", f"{service.name}.{entity_set.type_name}"),
            ("sap:creatable", _bool_flag(entity_set.creatable)),
            ("sap:updatable", _bool_flag(entity_set.updatable)),
            ("sap:deletable", _bool_flag(entity_set.deletable)),
            ("sap:content-version", "1"),
        ]
    )
    return f"    <EntitySet {attrs}/>\n"


def render_metadata(service: Service) -> bytes:
    schema = _attrs(
        [
            ("Namespace", service.name),
            ("xml:lang", "en"),
            ("sap:schema-version", "1"),
            ("xmlns", "http://schemas.microsoft.com/ado/2008/09/edm"),
        ]
    )
    container = _attrs(
        [
            ("Name", f"{service.name}_Entities"),
            ("m:IsDefaultEntityContainer", "true"),
            ("sap:message-scope-supported", "true"),
            ("sap:supported-formats", "atom json xlsx"),
        ]
    )
    types = "".join(_entity_type(service, s) for s in service.entity_sets)
    sets = "".join(_entity_set(service, s) for s in service.entity_sets)
    associations, association_sets = _associations(service)
    body = (
        f"{_HEAD}  <Schema {schema}>\n{types}{associations}"
        f"   <EntityContainer {container}>\n{sets}{association_sets}   </EntityContainer>\n"
        "  </Schema>\n </edmx:DataServices>\n</edmx:Edmx>\n"
    )
    return body.encode()
