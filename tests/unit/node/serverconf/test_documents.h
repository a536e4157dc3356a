#pragma once

// Service description documents shared by the serverconf tests (written for these tests).

#include <string>

namespace hansa::serverconf::testing {

// An X-Road style WSDL (PR-MESS 3.2): document/literal wrapped, two operations with xrd:version
// and xrd:title, one SOAP 1.1 binding, soap:address.
inline std::string person_wsdl(const std::string& second_operation = "updatePerson",
                               const std::string& address = "http://10.0.0.5:8080/person") {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions targetNamespace="http://person.example.org"
    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:xrd="http://x-road.eu/xsd/xroad.xsd"
    xmlns:tns="http://person.example.org">
  <wsdl:types>
    <xs:schema targetNamespace="http://person.example.org" elementFormDefault="qualified">
      <xs:import namespace="http://x-road.eu/xsd/xroad.xsd"/>
      <xs:element name="getPerson"><xs:complexType><xs:sequence>
        <xs:element name="personCode" type="xs:string"/></xs:sequence></xs:complexType></xs:element>
      <xs:element name="getPersonResponse"><xs:complexType><xs:sequence>
        <xs:element name="name" type="xs:string"/></xs:sequence></xs:complexType></xs:element>
      <xs:element name=")" +
         second_operation + R"("><xs:complexType><xs:sequence>
        <xs:element name="personCode" type="xs:string"/></xs:sequence></xs:complexType></xs:element>
      <xs:element name=")" +
         second_operation + R"(Response"><xs:complexType><xs:sequence>
        <xs:element name="ok" type="xs:boolean"/></xs:sequence></xs:complexType></xs:element>
    </xs:schema>
  </wsdl:types>
  <wsdl:message name="requestHeader">
    <wsdl:part name="client" element="xrd:client"/>
    <wsdl:part name="service" element="xrd:service"/>
    <wsdl:part name="id" element="xrd:id"/>
    <wsdl:part name="protocolVersion" element="xrd:protocolVersion"/>
  </wsdl:message>
  <wsdl:message name="getPerson"><wsdl:part name="body" element="tns:getPerson"/></wsdl:message>
  <wsdl:message name="getPersonResponse"><wsdl:part name="body" element="tns:getPersonResponse"/></wsdl:message>
  <wsdl:message name=")" +
         second_operation + R"("><wsdl:part name="body" element="tns:)" + second_operation +
         R"("/></wsdl:message>
  <wsdl:message name=")" +
         second_operation + R"(Response"><wsdl:part name="body" element="tns:)" + second_operation +
         R"(Response"/></wsdl:message>
  <wsdl:portType name="PersonPort">
    <wsdl:operation name="getPerson">
      <wsdl:documentation><xrd:title>Look up a person</xrd:title></wsdl:documentation>
      <wsdl:input message="tns:getPerson"/>
      <wsdl:output message="tns:getPersonResponse"/>
    </wsdl:operation>
    <wsdl:operation name=")" +
         second_operation + R"(">
      <wsdl:documentation><xrd:title>Second operation</xrd:title></wsdl:documentation>
      <wsdl:input message="tns:)" +
         second_operation + R"("/>
      <wsdl:output message="tns:)" +
         second_operation + R"(Response"/>
    </wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="PersonBinding" type="tns:PersonPort">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="getPerson">
      <soap:operation soapAction="" style="document"/>
      <xrd:version>v1</xrd:version>
      <wsdl:input>
        <soap:body use="literal"/>
        <soap:header message="tns:requestHeader" part="client" use="literal"/>
      </wsdl:input>
      <wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>
    <wsdl:operation name=")" +
         second_operation + R"(">
      <soap:operation soapAction="" style="document"/>
      <xrd:version>v2</xrd:version>
      <wsdl:input><soap:body use="literal"/></wsdl:input>
      <wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="PersonService">
    <wsdl:port name="PersonPort" binding="tns:PersonBinding">
      <soap:address location=")" +
         address + R"("/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
)";
}

// An OpenAPI 3 document in JSON with path parameters.
inline std::string pets_openapi_json(const std::string& extra_path = "") {
  return R"({
  "openapi": "3.0.3",
  "info": {"title": "Pet store", "version": "1.0"},
  "servers": [{"url": "https://{host}/api/v1", "variables": {"host": {"default": "pets.example.org"}}}],
  "paths": {
    "/pets": {
      "get": {"responses": {"200": {"description": "all pets"}}},
      "post": {"responses": {"201": {"description": "created"}}}
    },
    "/pets/{petId}": {
      "parameters": [{"name": "petId", "in": "path", "required": true, "schema": {"type": "string"}}],
      "get": {"responses": {"200": {"description": "one pet"}}},
      "delete": {"responses": {"204": {"description": "deleted"}}}
    })" + extra_path +
         R"(
  }
})";
}

// The same API in YAML, with a path parameter nested two levels deep.
inline std::string pets_openapi_yaml() {
  return R"(openapi: 3.0.1
info:
  title: Pet store
  description: |
    A long text with [brackets and {braces
      indented oddly
  version: "1.0"
servers:
  - url: http://pets.internal:8080/v2
paths:
  /pets:
    get:
      responses:
        '200':
          description: all pets
  /pets/{petId}/toys/{toyId}:
    put:
      parameters:
        - name: petId
          in: path
          required: true
          schema: {type: string}
      responses:
        '200': {description: updated}
    x-internal: true
)";
}

}  // namespace hansa::serverconf::testing
