/* Region picker: a six-digit GB/T 2260 code field (input[data-region-picker]) becomes three
   selects, province → city → district, filled from the project's one region table (the URL in
   the attribute). The selects write the district code into the field, which stays in the form
   (hidden): without JavaScript, or if the table cannot be loaded, the code is typed as before.
   A city with no districts of its own (441900 东莞市) is itself the code. */
(function () {
  "use strict";

  var TEXT = {
    province: "省（自治区、直辖市）",
    city: "市（地区、州）",
    county: "区（县）",
    choose: "请选择"
  };

  function option(value, label) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    return o;
  }

  function fill(select, entries, chosen) {
    select.textContent = "";
    select.appendChild(option("", TEXT.choose));
    entries.forEach(function (entry) {
      select.appendChild(option(entry[0], entry[1]));
    });
    select.value = chosen || "";
    select.disabled = entries.length === 0;
  }

  function under(table, prefix) {
    return Object.keys(table)
      .filter(function (code) { return code.indexOf(prefix) === 0; })
      .sort()
      .map(function (code) { return [code, table[code]]; });
  }

  function citiesOf(table, province) {
    return province ? under(table.cities, province) : [];
  }

  function countiesOf(table, city) {
    if (!city) { return []; }
    var found = under(table.counties, city).filter(function (e) { return e[0] !== city + "00"; });
    return found.length ? found : [[city + "00", table.counties[city + "00"] || table.cities[city]]];
  }

  function select(id, label, describedBy) {
    var s = document.createElement("select");
    s.id = id;
    s.setAttribute("aria-label", label);
    if (describedBy) { s.setAttribute("aria-describedby", describedBy); }
    return s;
  }

  function build(input, table) {
    var described = input.getAttribute("aria-describedby");
    var wrap = document.createElement("div");
    wrap.className = "region-picker";
    var province = select(input.id + "_province", TEXT.province, described);
    var city = select(input.id + "_city", TEXT.city, described);
    var county = select(input.id + "_county", TEXT.county, described);
    if (input.getAttribute("aria-invalid")) {
      [province, city, county].forEach(function (s) { s.setAttribute("aria-invalid", "true"); });
    }
    wrap.appendChild(province);
    wrap.appendChild(city);
    wrap.appendChild(county);

    var code = (input.value || "").trim();
    var known = /^\d{6}$/.test(code) && table.provinces[code.slice(0, 2)];
    fill(province, Object.keys(table.provinces).sort().map(function (p) {
      return [p, table.provinces[p]];
    }), known ? code.slice(0, 2) : "");
    fill(city, citiesOf(table, province.value), known ? code.slice(0, 4) : "");
    fill(county, countiesOf(table, city.value), known ? code : "");

    province.addEventListener("change", function () {
      fill(city, citiesOf(table, province.value), "");
      fill(county, [], "");
      input.value = "";
    });
    city.addEventListener("change", function () {
      var counties = countiesOf(table, city.value);
      fill(county, counties, counties.length === 1 ? counties[0][0] : "");
      input.value = county.value;
    });
    county.addEventListener("change", function () {
      input.value = county.value;
    });

    var label = document.querySelector('label[for="' + input.id + '"]');
    if (label) { label.htmlFor = province.id; }
    var help = document.getElementById(input.id + "_helptext");
    if (help) { help.hidden = true; }
    input.hidden = true;
    input.parentNode.insertBefore(wrap, input);
  }

  Array.prototype.forEach.call(document.querySelectorAll("input[data-region-picker]"), function (input) {
    fetch(input.getAttribute("data-region-picker"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (table) { build(input, table); })
      .catch(function () { /* keep the typed code */ });
  });
})();
