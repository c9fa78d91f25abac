#!/usr/bin/env python3
"""Regenerates the suites' bundle fixtures from the demo discharge summary
(config/demo/discharge-summary.json), so that they stay in step with it.
Each fixture gets its own Bundle.identifier (pushes are idempotent on it)
and its own record number. Run from the repository root:
    python3 conformance/tools/make_fixtures.py
All data is fictional."""
import copy, json, os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = json.load(open(os.path.join(ROOT, 'config/demo/discharge-summary.json')))
SUITES = os.path.join(ROOT, 'conformance/suites')
MC = 'http://fhir.migrant-care.example.org'


def variant(n, record):
    b = copy.deepcopy(DEMO)
    b['identifier']['value'] = 'urn:uuid:6a1c0000-0000-4000-8000-0000000c%04x' % n
    for e in b['entry']:
        r = e['resource']
        if r['resourceType'] == 'Patient':
            r['identifier'] = [{'system': 'urn:oid:2.999.1.1', 'value': record}]
    return b


def resource(b, kind):
    return [e['resource'] for e in b['entry'] if e['resource']['resourceType'] == kind][0]


def write(suite, name, obj):
    d = os.path.join(SUITES, suite, 'fixtures')
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'w') as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write('\n')


def planted():
    """The discharge summary with every sensitive category planted in it."""
    b = variant(0x50, 'CONF-PRIV-0001')
    p = resource(b, 'Patient')
    p['text'] = {'status': 'generated', 'div':
                 '<div xmlns="http://www.w3.org/1999/xhtml"><p>Amina Example, passport P7766554433, '
                 'asylum seeker, staying at 17 Harbour Shelter Road, Portmira; nationality Freedonian</p></div>'}
    p['extension'] += [
        {'url': MC + '/StructureDefinition/immigration-status',
         'valueCodeableConcept': {'coding': [{'system': MC + '/CodeSystem/immigration-status', 'code': 'asylum-seeker'}]}},
        {'url': 'http://hl7.org/fhir/StructureDefinition/patient-nationality',
         'extension': [{'url': 'code', 'valueCodeableConcept': {'coding': [{'system': 'urn:iso:std:iso:3166', 'code': 'SY'}]}}]},
        {'url': 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace',
         'valueAddress': {'city': 'Aleppo', 'country': 'SY'}},
    ]
    p['identifier'].append({'type': {'coding': [{'system': 'http://terminology.hl7.org/CodeSystem/v2-0203', 'code': 'PPN'}]},
                            'system': 'urn:oid:2.999.9.9', 'value': 'P7766554433'})
    p['address'] = [
        {'use': 'home', 'line': ['17 Harbour Shelter Road'], 'city': 'Portmira', 'postalCode': '90210', 'country': 'XX',
         'extension': [{'url': 'http://hl7.org/fhir/StructureDefinition/geolocation', 'extension': [
             {'url': 'latitude', 'valueDecimal': 36.2021}, {'url': 'longitude', 'valueDecimal': 37.1343}]}]},
        {'use': 'temp', 'line': ['Tent 42, Transit Camp North'], 'city': 'Bordertown', 'country': 'XX'},
    ]
    enc = resource(b, 'Encounter')
    enc['text']['div'] = ('<div xmlns="http://www.w3.org/1999/xhtml"><p>Inpatient stay; brought in from '
                          'Transit Camp North by the border police</p></div>')
    return b


def main():
    # hospital push: a valid summary and one bundle per class of error
    ok = variant(0x01, 'CONF-PUSH-0001')
    write('hospital-push', 'discharge-summary.json', ok)
    write('hospital-push', 'not-a-bundle.json', resource(ok, 'Patient'))
    searchset = variant(0x02, 'CONF-PUSH-0002')
    searchset['type'] = 'searchset'
    write('hospital-push', 'wrong-bundle-type.json', searchset)
    no_comp = variant(0x03, 'CONF-PUSH-0003')
    no_comp['entry'] = no_comp['entry'][1:]
    write('hospital-push', 'document-without-composition.json', no_comp)
    bad_date = variant(0x04, 'CONF-PUSH-0004')
    resource(bad_date, 'Patient')['birthDate'] = '1990-13-45'
    write('hospital-push', 'invalid-birth-date.json', bad_date)
    unresolved = variant(0x05, 'CONF-PUSH-0005')
    resource(unresolved, 'Composition')['subject']['reference'] = 'urn:uuid:6a1c0000-0000-4000-8000-00000000dead'
    write('hospital-push', 'unresolvable-subject.json', unresolved)

    write('idempotent-repush', 'discharge-summary.json', variant(0x10, 'CONF-IDEM-0001'))
    write('clinic-pull', 'discharge-summary.json', variant(0x20, 'CONF-PULL-0001'))
    write('authorization', 'discharge-summary.json', variant(0x30, 'CONF-AUTH-0001'))
    write('purpose-of-use', 'discharge-summary.json', variant(0x40, 'CONF-PURP-0001'))
    write('negative-privacy', 'planted-discharge-summary.json', planted())
    write('validate', 'discharge-summary.json', variant(0x60, 'CONF-VAL-0001'))
    write('validate', 'invalid-birth-date.json', bad_date)
    write('validate', 'patient.json', resource(variant(0x61, 'CONF-VAL-0002'), 'Patient'))


if __name__ == '__main__':
    main()
